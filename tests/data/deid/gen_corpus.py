#!/usr/bin/env python3
"""Builds tests/data/deid/corpus.jsonl from hand-written, marked-up synthetic sentences.

Markup: ⟦code|text⟧ marks an expected finding. All data is fake (000 blocks, example.com).
"""
import json, re, sys

K = {
    "mp": "mobile_phone", "ll": "landline", "em": "email", "cid": "citizen_id",
    "pp": "passport", "ba": "bank_account", "tax": "tax_code", "si": "social_insurance",
    "lp": "licence_plate", "tg": "telegram_handle", "self": "self_identification",
}

POS = r"""
# ---- mobile phones, Vietnamese with diacritics
Số điện thoại của tôi là ⟦mp|0905 000 123⟧, mong Thanh tra liên hệ.
Cán bộ địa chính bắt tôi nộp thêm tiền, liên hệ tôi qua ⟦mp|0912.000.456⟧.
SĐT: ⟦mp|0935-000-789⟧ (chỉ gọi sau 18 giờ).
Anh có thể gọi ⟦mp|+84 905 000 123⟧ nếu cần thêm chứng cứ.
Số của tôi ⟦mp|(+84) 912 000 456⟧, xin giữ bí mật.
Zalo ⟦mp|0388000111⟧, tôi gửi ảnh qua đó được.
Tôi dùng số ⟦mp|0868 000 222⟧ để nhắn tin cho ông ấy.
Điện thoại ⟦mp|0779 000 333⟧ là của vợ tôi, cũng có thể liên lạc.
Liên hệ: ⟦mp|0523000444⟧.
Ông ấy gọi vào máy ⟦mp|0989 000 555⟧ của tôi để đe dọa.
Số cũ của tôi là ⟦mp|0120 000 1234⟧, giờ không dùng nữa.
Tôi có tin nhắn từ số ⟦mp|0168 000 5678⟧ đòi tiền.
Nhắn cho tôi: ⟦mp|84905000123⟧.
Gọi ⟦mp|090 500 0123⟧ hoặc ⟦mp|091 200 0456⟧.
ĐT ⟦mp|0971.000.321⟧ – chị Lan (người làm chứng).
Số máy ⟦mp|0356 000 789⟧ đã gọi cho tôi lúc 22 giờ.
Số điện thoại: ⟦mp|0906 000 001⟧
Tôi gửi kèm hóa đơn, số liên lạc ⟦mp|+84-935-000-789⟧.
sđt ⟦mp|0901 000 002⟧ nhé anh.
Hotline cá nhân của tôi ⟦mp|0943000111⟧ luôn mở.
Số ⟦mp|０９０５ ０００ １２３⟧ là số của tôi.
Tôi là người dân, sđt ⟦mp|0834 000 765⟧.
Cháu xin số ⟦mp|0703 000 654⟧ để cán bộ gọi lại ạ.
# ---- mobile phones, Vietnamese without diacritics
so dien thoai cua toi la ⟦mp|0905000123⟧
sdt toi ⟦mp|0912 000 456⟧, goi sau 5h chieu
toi o Cam Ranh, lien he ⟦mp|0935.000.789⟧
zalo ⟦mp|0388 000 111⟧ nha anh
ong ay nhan tin vao so ⟦mp|0868000222⟧ cua toi
goi cho toi qua so ⟦mp|+84 779 000 333⟧
so dt ⟦mp|0523-000-444⟧, xin cam on
dt cua em ⟦mp|0989000555⟧
neu can thi goi ⟦mp|0120 000 1234⟧ (so cu)
em gui anh so ⟦mp|0906 000 001⟧ va so ⟦mp|0907 000 002⟧
lien he ⟦mp|(+84) 905 000 124⟧
# ---- mobile phones, English
My phone number is ⟦mp|0905 000 123⟧.
You can reach me at ⟦mp|+84 912 000 456⟧ after 6 pm.
Call ⟦mp|0935-000-789⟧ if you need the photos.
Please text ⟦mp|0388.000.111⟧, I cannot talk at work.
My WhatsApp is ⟦mp|+84 868 000 222⟧.
Contact: ⟦mp|84779000333⟧
He called my mobile ⟦mp|0989 000 555⟧ three times last night.
I live abroad, my number is ⟦mp|+1 555 000 0123⟧.
# ---- landlines
Văn phòng UBND phường có số ⟦ll|0258 3822 000⟧ nhưng không ai nghe.
Số máy bàn nhà tôi ⟦ll|0258.3822.001⟧.
Tôi gọi đường dây nóng của Sở ⟦ll|(0258) 3 822 002⟧ nhưng bị từ chối.
Điện thoại cơ quan: ⟦ll|0259 3822 003⟧.
Gọi ⟦ll|024 3825 0004⟧ (Hà Nội) cũng không được.
Cửa hàng của tôi ⟦ll|028 3822 0005⟧ ở TP.HCM.
so ban nha toi ⟦ll|02583822006⟧
dien thoai co quan ⟦ll|+84 258 3822 007⟧
Our office phone is ⟦ll|+84 258 3822 008⟧.
The ward office line ⟦ll|0258-3822-009⟧ was never answered.
Tel: ⟦ll|(0258) 3822 010⟧
Máy bàn ⟦ll|0258 3 822 011⟧, di động ⟦mp|0905 000 125⟧.
Phòng tiếp dân: ⟦ll|0259.3822.012⟧
# ---- emails
Email của tôi: ⟦em|nguyen.an@example.com⟧
Xin gửi phản hồi về ⟦em|tran_hoa99@example.org⟧.
email ⟦em|le.van.tam@example.net⟧ nhe
My email is ⟦em|reporter.kh@example.com⟧.
Write to ⟦em|an.nguyen+tips@example.com⟧ please.
Tôi đã gửi đơn từ địa chỉ ⟦em|pham.duc@mail.example.com⟧ hôm qua.
Liên hệ ⟦em|NguyenVanAn@Example.COM⟧ hoặc ⟦mp|0905 000 126⟧.
dia chi mail ⟦em|hoa.tran.1985@example.vn⟧
Mail: ⟦em|an.nguyen [at] example [dot] com⟧
Email tôi là ⟦em|an(at)example.com⟧, tránh bị lọc.
Please reply to ⟦em|kh.citizen@example.org⟧ only.
gui file qua ⟦em|duc.pham@example.com⟧ giup em
Ông ấy dùng email công vụ, còn tôi dùng ⟦em|dan.khanhhoa@example.net⟧.
Thư gửi từ ⟦em|t.h.lan@example.com⟧ là của tôi.
Email: ⟦em|user-01@example.co⟧, SĐT ⟦mp|0912 000 457⟧.
Contact me at ⟦em|an_nguyen@example.com⟧ or ⟦tg|@an_nguyen_demo⟧.
Tôi có hai email ⟦em|a1@example.com⟧ và ⟦em|b2@example.org⟧.
hop thu ⟦em|nguyenvana.kh@example.com⟧
Gửi bản scan về ⟦em|scan.hoso@example.com⟧ giúp tôi.
My work address is ⟦em|j.doe@example.org⟧.
# ---- citizen ID (CCCD 12, CMND 9)
Số CCCD của tôi là ⟦cid|056200000123⟧.
CCCD: ⟦cid|079 185 000 456⟧, cấp ngày 12/03/2021.
Căn cước công dân số ⟦cid|056185000789⟧ do Cục Cảnh sát cấp.
Tôi nộp bản sao CMND ⟦cid|225000123⟧ cho cán bộ.
Chứng minh nhân dân số ⟦cid|264 000 456⟧.
so cccd ⟦cid|058190000321⟧
cmnd cua toi ⟦cid|225000789⟧
CMT ⟦cid|225 000 321⟧, cấp năm 2010.
My citizen ID is ⟦cid|056200000654⟧.
ID card number: ⟦cid|225000654⟧
Họ giữ thẻ căn cước ⟦cid|056 1850 00987⟧ của tôi.
⟦cid|056200000111⟧ là số định danh của tôi.
Số định danh cá nhân: ⟦cid|001099000222⟧
Ông ấy chụp CCCD ⟦cid|056-200-000-333⟧ của mẹ tôi.
Tôi khai số ⟦cid|056195000444⟧ trong hồ sơ.
chung minh thu so ⟦cid|225 000 555⟧
Bản photo CMND số ⟦cid|225000666⟧ bị thất lạc ở phường.
National ID: ⟦cid|079201000777⟧
căn cước ⟦cid|056200000888⟧, điện thoại ⟦mp|0905 000 127⟧
# ---- passports
Hộ chiếu của tôi số ⟦pp|C0001234⟧.
Passport no. ⟦pp|B0009876⟧, issued 2019.
so ho chieu ⟦pp|N0004567⟧
Họ giữ hộ chiếu ⟦pp|P00001234⟧ của tôi ba tháng.
My passport number is ⟦pp|C0007654⟧.
Tôi xuất trình hộ chiếu ⟦pp|c0002345⟧ tại sân bay Cam Ranh.
Giấy tờ: ⟦pp|K0003456⟧ (hộ chiếu), ⟦cid|056200000999⟧ (CCCD).
passport ⟦pp|C0005678⟧ het han nam 2030
Hộ chiếu phổ thông ⟦pp|C0008765⟧ đã nộp cho công an.
Passport ⟦pp|B0001111⟧ was copied without my consent.
# ---- bank accounts
STK ⟦ba|0071000123456⟧ Vietcombank chi nhánh Khánh Hòa.
Số tài khoản của tôi: ⟦ba|1903000123456⟧ (Techcombank).
Chuyển khoản cho tôi vào Vietinbank ⟦ba|101000123456⟧.
Tài khoản ngân hàng BIDV số ⟦ba|5811000123456⟧.
stk ⟦ba|0905000123⟧ MB Bank chính chủ
so tai khoan agribank ⟦ba|4600205000123⟧
Account number ⟦ba|0071000654321⟧ at Vietcombank.
Bank account: ⟦ba|19036000123017⟧
ACB ⟦ba|123000456⟧, ⟦self|chủ tài khoản: Nguyễn Văn An⟧.
Ông ấy bắt tôi CK vào ⟦ba|0071000111222⟧ để "lo" hồ sơ.
Sacombank ⟦ba|0601 0000 1234⟧ là tài khoản của tôi.
TPBank ⟦ba|00001234567⟧
số TK ⟦ba|0123000456789⟧ VPBank
stk: ⟦ba|1012 000 3456⟧ vietcombank
Tôi đã chuyển 5.000.000 đồng từ tài khoản ⟦ba|0071000333444⟧ của tôi.
# ---- tax codes
Mã số thuế cá nhân của tôi: ⟦tax|8000123456⟧.
MST ⟦tax|4200000123⟧ (hộ kinh doanh của tôi).
MST chi nhánh: ⟦tax|4201000456-001⟧
ma so thue ⟦tax|4200000789⟧
My tax code is ⟦tax|8000654321⟧.
Cửa hàng tôi có mã số thuế ⟦tax|4201000111⟧, bị thu phí vô lý.
Tax ID ⟦tax|0301000123⟧
mst ca nhan ⟦tax|8000111222⟧
# ---- social insurance
Mã số BHXH của tôi là ⟦si|5601000123⟧.
Sổ BHXH số ⟦si|5601000456⟧ bị công ty giữ.
so bhxh ⟦si|7900012345⟧
Social insurance number: ⟦si|5601000789⟧
Công ty không đóng bảo hiểm xã hội, mã ⟦si|5601000321⟧.
ma so bhxh ⟦si|5601000654⟧
BHXH ⟦si|5601000987⟧, thẻ BHYT hết hạn.
Tra cứu BHXH mã số ⟦si|5600123456⟧ thấy thiếu 6 tháng.
# ---- licence plates
Xe của tôi biển số ⟦lp|79A-000.12⟧ bị giữ không lý do.
CSGT giữ xe ⟦lp|79A00034⟧ của tôi ba ngày.
Xe máy ⟦lp|85-B1 000.56⟧ là của tôi.
bien so xe ⟦lp|79-H1 000.78⟧
Xe ⟦lp|51F-000.90⟧ chở tôi đến phường hôm đó.
My car ⟦lp|79A-000.21⟧ was towed by the ward.
Biển kiểm soát ⟦lp|79C-000.43⟧, xe tải nhỏ của gia đình.
bks ⟦lp|79a-000.65⟧
Xe ⟦lp|79H1-000.87⟧ (xe máy của tôi) bị tạm giữ.
Ông ấy ghi biển số ⟦lp|79 A 000.98⟧ của tôi vào biên bản.
Xe ⟦lp|85A-000.11⟧ đậu trước nhà tôi.
Licence plate ⟦lp|79B-000.22⟧.
Xe khách ⟦lp|79B00033⟧ bị thu tiền.
Tôi đi xe ⟦lp|79-N1 000.44⟧ tới trụ sở.
Biển số: ⟦lp|30A-000.55⟧
# ---- telegram
Nhắn Telegram cho tôi: ⟦tg|@an_nguyen_demo⟧
telegram ⟦tg|@hoa_tran_kh⟧ nhe
My Telegram is ⟦tg|@reporter_kh_01⟧.
Link của tôi ⟦tg|t.me/fake_reporter_01⟧
Chat với tôi ở ⟦tg|https://t.me/demo_user_kh⟧.
Username ⟦tg|@NguyenVanAn1985⟧.
⟦tg|@tipline_test_user⟧ là tài khoản phụ của tôi.
Tôi có kênh ⟦tg|t.me/khanhhoa_demo⟧ đăng ảnh.
liên hệ tele ⟦tg|@demo_kh_2025⟧
Add me: ⟦tg|@an_nguyen_fake⟧
Nhóm ⟦tg|https://t.me/joinchat/AbCdEf123⟧ do tôi lập.
tg ⟦tg|@user_00123⟧
# ---- self identification, names
⟦self|Tôi là Nguyễn Văn Đức⟧, người dân phường Vĩnh Hải.
⟦self|Tên tôi là Trần Thị Hoa⟧, tôi muốn tố cáo cán bộ xã.
⟦self|Tôi tên là Lê Văn Tám⟧, sinh năm 1980.
⟦self|Tên của tôi là Phạm Minh Châu⟧.
⟦self|toi la Nguyen Van Duc⟧, nguoi dan phuong Vinh Hai
⟦self|ten toi la tran thi hoa⟧, o thon 2
⟦self|toi ten la Le Van Tam⟧ va toi muon bao cao
⟦self|toi la nguyen van an⟧ o Ninh Hoa
⟦self|My name is Nguyen Van An⟧ and ⟦self|I live in Nha Trang⟧.
⟦self|I am Tran Thi Hoa⟧, a teacher in Cam Ranh.
⟦self|I'm Lan⟧, I work at the market.
⟦self|I’m Pham Duc⟧ from Dien Khanh.
⟦self|Em là Hoa⟧, em muốn phản ánh việc thu tiền.
⟦self|Mình là Tuấn⟧, nhà ở gần chợ.
⟦self|Tôi, Nguyễn Văn Bình⟧, xin trình bày sự việc như sau.
⟦self|Họ và tên: Trần Văn Cường⟧
⟦self|Người làm đơn: Lê Thị Mai⟧
⟦self|tôi là bà Trần Thị Hoa⟧, bán hàng ở chợ Đầm.
Xin tự giới thiệu, ⟦self|tôi là Võ Minh Khoa⟧, giáo viên.
⟦self|Tôi tên Hùng⟧, nhà ở thôn Phú Ân.
⟦self|my name is nguyen van binh⟧
⟦self|Người tố cáo: Nguyễn Thị Lan⟧
⟦self|I am Mr Le Van Hai⟧, owner of a small shop.
⟦self|Tôi là Đặng Thị Thu⟧ – tiểu thương chợ Xóm Mới.
⟦self|Tên tôi: Huỳnh Văn Phúc⟧
⟦self|họ tên: nguyễn văn nam⟧
⟦self|cháu là Ngọc⟧, cháu học lớp 12.
⟦self|ten cua toi la Pham Thi Nga⟧
⟦self|Tôi là Nguyễn Văn An⟧, số điện thoại ⟦mp|0905 000 128⟧, email ⟦em|an.nguyen@example.com⟧.
⟦self|I am Nguyen Thi Hong⟧ and my number is ⟦mp|0912 000 458⟧.
# ---- self identification, address and unrecognised contact data
⟦self|Nhà tôi ở số 12 đường Lê Lợi, phường Vĩnh Hải, Nha Trang⟧.
⟦self|nha toi o so 5 duong Tran Phu⟧ va ong ay den luc 9h
⟦self|Tôi sống ở thôn Phú Hữu, xã Diên Phú⟧.
⟦self|Địa chỉ của tôi: 45 Nguyễn Trãi, Nha Trang⟧.
⟦self|My home address is 12 Le Loi street, Nha Trang⟧.
⟦self|I live at 7 Tran Phu⟧, next to the ward office.
⟦self|Nhà tôi nằm ở hẻm 3 Ngô Gia Tự⟧, ông ấy đến đòi tiền.
⟦self|tôi ở số 9 Hoàng Văn Thụ, tổ 5⟧.
⟦self|sđt của tôi là không chín không năm không không không một hai ba⟧.
⟦self|số điện thoại của tôi là 0905 xxx 123⟧, anh nhắn trước.
⟦self|my phone number is zero nine oh five⟧, sorry for the format.
⟦self|Tôi thường trú tại tổ 3, phường Cam Linh⟧.

# ---- harder positives (written after the first detector pass)
SĐT⟦mp|0905000129⟧, gọi giờ hành chính.
sdt:⟦mp|0912000459⟧
Liên lạc ⟦mp|0905000130⟧/⟦mp|0912000460⟧ đều được.
Số điện thoại (Zalo): ⟦mp|0905 000 131⟧.
Gọi tôi: ⟦mp|0905 000132⟧ hoặc email ⟦em|an.k@example.com⟧.
⟦self|tôi là anh Tuấn⟧, bán cá ở chợ Vĩnh Hải.
⟦self|TÔI LÀ NGUYỄN VĂN AN⟧, NHÀ Ở CAM RANH.
⟦self|TEN TOI LA TRAN VAN BINH⟧
⟦self|I AM NGUYEN VAN TAM⟧ AND I NEED HELP.
Hi, ⟦self|I am An⟧, a shop owner.
Email: ⟦em|an.nguyen @ example.com⟧
⟦em|an a còng example chấm com⟧ là mail của tôi.
mail ⟦em|hoa at example dot com⟧
STK⟦ba|0071000123999⟧ Vietcombank
⟦self|Chủ TK: Trần Văn Bình⟧, STK ⟦ba|0071000444555⟧.
CCCD:⟦cid|056200000124⟧
Số căn cước ⟦cid|056 200 000 125⟧; nơi cấp Cục CS QLHC.
⟦self|Tôi tên Nguyễn Văn An⟧, 45 tuổi, ở phường Phước Long.
⟦self|Tôi là Hoa⟧, bán rau ở chợ Xóm Mới.
⟦self|nha em o so 10 hem 5 Le Hong Phong⟧, anh den xem.
⟦self|I live in Vinh Hai ward, Nha Trang⟧.
BKS: ⟦lp|79A-12345⟧
Biển ⟦lp|79A 12345⟧ của tôi bị phạt oan.
Xe điện ⟦lp|79MĐ1-000.12⟧ của con tôi.
Mã BHXH: ⟦si|5601000111⟧; mã số thuế: ⟦tax|8000333444⟧.
Ông ấy có số ⟦mp|0905 000 133⟧ của tôi và gọi đe dọa.
Tôi gửi hình qua Zalo ⟦mp|0905-000-134⟧.
Liên hệ số ⟦mp|0905 000 135⟧ (anh Nam, hàng xóm, làm chứng).
⟦tg|@an_nguyen_demo⟧ hoặc ⟦tg|t.me/an_nguyen_demo⟧
STK: ⟦ba|0071000777888⟧ - VCB - ⟦self|NGUYỄN VĂN AN⟧
Mã số bảo hiểm: ⟦si|5601000157⟧
⟦self|em ở tổ 5 thôn Phú Ân Nam 2 xã Diên An⟧
⟦self|tôi ở thôn 2 xã Ninh Phụng⟧.
⟦self|Em tên Thảo⟧, sđt ⟦mp|0905 000 140⟧ ạ.
Chuyển vào tk ⟦ba|19036000154⟧ tcb
Số đt nhà: ⟦ll|0258.3.822.140⟧
sdt ⟦mp|090 5000 142⟧
⟦self|Mình tên là hoàng anh tuấn⟧, 32t
ID: ⟦cid|056200000150⟧
CMND ⟦cid|225.000.152⟧
# ---- names that fold to money words (Tiến/Tiên → tien, Phí → phi, Đông/Đồng → dong)
Ông Nguyễn Văn Tiến, ⟦cid|079200000123⟧, cán bộ địa chính, nhận hồ sơ của tôi.
nguyen van tien, ⟦cid|079200000126⟧ la nguoi lam chung
Anh Trần Văn Tiến, CCCD ⟦cid|056200000321⟧, đã nộp đơn cùng tôi.
Chị Lê Thủy Tiên ⟦cid|056200000788⟧ giữ bản gốc.
Bà Lê Thị Phí ⟦cid|056185000654⟧ là người ký giấy biên nhận.
le thi phi ⟦cid|056185000655⟧ o thon 3
Ông Phạm Văn Đông ⟦cid|058190000987⟧ ký biên bản thay tôi.
pham van dong, cmnd ⟦cid|225000778⟧
Người làm chứng Hồ Văn Đồng, ⟦cid|225000779⟧.
Mr. Nguyen Van Tien, ID ⟦cid|079200000125⟧, can confirm this.
Anh Tiến ⟦mp|0905 000 151⟧ biết chuyện này.
Chuyển khoản cho chị Phí, STK ⟦ba|0071000555666⟧ Vietcombank.
Công ty của ông Đông, MST ⟦tax|4200000999⟧, bị ép nộp thêm.
Ông Tiến hỏi số BHXH ⟦si|5601000222⟧ của tôi.
Cán bộ Nguyễn Văn Phi gọi vào máy ⟦mp|0912 000 461⟧ của vợ tôi.
Hộ chiếu của anh Đông ⟦pp|C0009999⟧ bị giữ lại.
# ---- known limitations, kept so the table stays honest (names without a phrase, relatives)
⟦mp|0905 000 143⟧ - ⟦self|Nguyễn Văn An⟧ - Tổ 5 Vĩnh Hải
Gửi Thanh tra: ⟦self|tôi là con ông Nguyễn Văn Bảy⟧ ở thôn 3.
Tôi là người dân, ⟦self|tên Hoa⟧.
Hỏi thăm tôi qua zalo tên ⟦self|Hoa Nguyen⟧ nhé
"""

NEG = r"""
# ---- dates and times
Sự việc xảy ra ngày 12/03/2025 tại trụ sở UBND phường.
Ngày 12-03-2025, cán bộ đến nhà lúc 8 giờ 30.
Tháng 3/2025 ông ấy thu tiền lần thứ hai.
Hạn nộp hồ sơ là 2025-04-15.
Buổi làm việc lúc 14:30 ngày 05.06.2024.
ngay 12/3 ong ay den luc 8h sang
The meeting was on 12/03/2025 at 9:15.
Từ năm 2019 đến năm 2024, tôi đã gửi 5 đơn.
Đến ngày 30/04 vẫn chưa có trả lời.
Biên bản lập lúc 10 giờ 45 phút ngày 20 tháng 11 năm 2024.
Họ hẹn tôi 7h30 sáng thứ Hai.
Vụ việc kéo dài từ 01/2023 đến 06/2024.
# ---- money
Ông ấy đòi 500.000 đồng mới ký giấy.
Tôi phải nộp 5.000.000đ "phí bôi trơn".
Họ đòi 2 triệu cho mỗi hồ sơ.
Số tiền 1,5 tỷ đồng chưa được giải trình.
Tổng cộng 150.000.000 đồng đã bị chiếm dụng.
ong ay lay 300000d moi lan
Tiền phạt 3.500.000 VND nhưng không có biên lai.
He demanded 5,000,000 VND in cash.
The bribe was about 200 USD.
Phí dịch vụ 120000000 đồng là vô lý.
Mỗi hộ góp 50.000đ, cả thôn 300 hộ.
Gói thầu 12.000.000.000 đồng được giao không qua đấu thầu.
so tien 123456789 dong da chuyen di
Họ thu 1.200.000.000 đồng tiền đền bù.
Lương tháng 7.500.000 đ mà bị trừ 2.000.000 đ.
Giá đất được nâng lên 25.000.000đ/m2.
Cán bộ thu phí 123456789 mà không có biên lai.
Tiền: 225000123 chưa được trả lại.
tien 225000456 chua tra lai cho dan
Chi phí 225000789 là do ông ấy tự đặt ra.
Tiền mặt 225000321 đã đưa tận tay cán bộ.
phi: 225000654, thu hai lan
Lệ phí 123000456 cao gấp mười lần quy định.
# ---- documents, laws, case codes, receipts
Căn cứ Nghị định 59/2019/NĐ-CP về phòng chống tham nhũng.
Quyết định số 123/QĐ-UBND ngày 05/01/2024 bị ký sai thẩm quyền.
Luật số 25/2018/QH14 quy định rõ quyền của người tố cáo.
Công văn 456/UBND-TTr chưa được trả lời.
Mã hồ sơ KH-2025-00123 đã quá hạn.
Mã phản ánh của tôi là TL-7Q4M.
Biên nhận 7Q4M-2XPA-9KDE-W3HZ, tôi đã lưu lại.
Thông tư 01/2024/TT-BTC hướng dẫn về lệ phí.
Theo Điều 5 khoản 2 Luật Tố cáo 2018.
Hồ sơ số 2025/HS-0456 đang được xử lý.
Nghị quyết 18-NQ/TW nói về đất đai.
case KH-2025-00987 was closed without reply
Receipt code 9KDE-W3HZ-7Q4M-2XPA.
Đơn số 15/ĐT-2024 gửi Thanh tra tỉnh.
Kế hoạch 2345/KH-UBND năm 2024.
Ma bien nhan TL-2025-000123
Quyết định 1234/QĐ-UBND ngày 12/12/2023 của UBND tỉnh Khánh Hòa.
Chỉ thị 05-CT/TU về chống tiêu cực.
Mã tra cứu: A7B9-C3D1.
Hóa đơn số 0001234 ghi sai số tiền.
Văn bản số 789/STNMT-QLĐĐ của Sở.
# ---- percentages, counts, years, measurements
Tỷ lệ hồ sơ trễ hạn là 35%.
Có 120 hộ dân bị ảnh hưởng.
Dân số phường khoảng 25.000 người.
Năm 2024 có 3 vụ tương tự.
Diện tích 250 m2 bị lấn chiếm.
Con đường dài 1,2 km chưa làm xong.
Only 40% of the funds reached the village.
About 1500 households signed the petition.
Họ chặt 35 cây dừa trên 2 ha đất.
Lô đất 120m2 ở tổ 5.
Chiều rộng 4,5 m, chiều dài 20 m.
Xe chở 10 tấn cát mỗi chuyến.
Tôi đã chờ 3 tiếng đồng hồ.
Có tới 12 người ký tên vào đơn.
# ---- office addresses and officials
Trụ sở UBND phường ở số 1 Trần Phú, Nha Trang.
Tôi đến Sở Tài nguyên, 10 Hàn Thuyên, để hỏi.
Ông Nguyễn Văn A, phó chủ tịch UBND phường, đã nhận tiền.
Bà Trần Thị B, cán bộ địa chính xã, gây khó dễ.
Ông Lê Văn C (trưởng công an xã) đe dọa người dân.
Chủ tịch UBND huyện Diên Khánh không trả lời đơn.
Ong Nguyen Van A pho chu tich phuong nhan tien
Mr Tran Van B, the ward chairman, asked for money.
Cán bộ tư pháp Phạm Văn D yêu cầu nộp thêm giấy tờ.
Ông Hoàng Văn E ký quyết định sai.
Trưởng thôn Nguyễn Văn F thu tiền không có biên lai.
The official, Mr Le Van G, refused to sign.
Phó giám đốc Sở Xây dựng Trần Văn H có liên quan.
Văn phòng tiếp công dân tỉnh ở số 2 Lê Thánh Tôn.
Ban quản lý chợ Đầm, 47 Phan Bội Châu.
# ---- self descriptions that are not names
Tôi là người dân phường Vĩnh Hải.
Tôi là nạn nhân của việc thu phí trái phép.
Tôi là tiểu thương ở chợ Xóm Mới.
toi la nguoi dan o Cam Ranh
toi la giao vien, khong muon bi tra thu
Em là sinh viên, em thấy việc này không đúng.
I am a farmer in Ninh Hoa.
I am writing to report a bribe.
I'm worried about retaliation.
I am not sure who to contact.
I am Vietnamese and I live here.
I am the owner of a small shop.
Tôi là Người dân bình thường.
Mình là chủ quán cà phê gần đó.
Tôi là vợ của người bị đánh.
Tôi là Đảng viên nhưng vẫn phải lên tiếng.
tôi là lễ tân khách sạn, tôi chứng kiến việc này.
Tôi là một trong những hộ bị thu hồi đất.
Tôi là công dân, tôi có quyền tố cáo.
I'm a resident of the ward.
I am afraid to give my name.
Tôi, người dân thôn 2, xin phản ánh.
I'm just a citizen who wants justice.
Tôi chỉ là dân thường thôi.
# ---- phones and personal words without data
Số điện thoại của tôi bị lộ ra ngoài.
Ông ấy lấy số điện thoại của tôi từ hồ sơ.
I do not want to give my phone number.
Tôi không muốn cung cấp số CCCD.
Họ yêu cầu tôi nộp bản sao CCCD và sổ hộ khẩu.
Tôi đã chuyển khoản nhưng không được xác nhận.
Xin đừng tiết lộ tên của tôi.
Please keep my name secret.
Nhà tôi bị cưỡng chế mà không có quyết định.
My house was demolished without notice.
Tôi không có tài khoản ngân hàng.
Họ đòi hộ chiếu của tôi nhưng tôi không đưa.
Xe của tôi bị giữ mà không có biên bản.
Đường dây nóng 1900 1234 không ai nghe máy.
Tôi đã gọi 113 và 114 nhưng không ai đến.
Gọi tổng đài 1022 của tỉnh cũng không được.
# ---- numbers that look like ids but are not
Dự án có tổng vốn 123.456.789 đồng.
Lô số 123456 trong bản đồ địa chính.
Thửa đất số 245, tờ bản đồ số 12.
Mã đơn hàng ORD-20250312-7788.
Mã vận đơn SPX123456789VN.
Phiếu thu số PT-0012345 ghi sai.
Quyết định số 102030405/QĐ bị làm giả.
Serial 7Q4M2XPA9KDE.
Mã tra cứu 20250312 trên cổng dịch vụ công.
Version 2.4.1 of the app crashed.
Tổng đài 1800 1091 miễn phí.
Chuyển khoản 2.000.000 đồng vào ngày 12/03.
chuyen khoan 500000 dong cho ong ay
Tôi CK 3 triệu cho cán bộ.
Ông ấy đòi CK 10.000.000đ.
IP 192.168.1.1 không truy cập được cổng thông tin.
Tọa độ 12.2388, 109.1967 là khu đất tranh chấp.
Tỷ số 2-1 trong trận bóng xã.
Phòng 201, tầng 2, nhà A.
Km 1432+500 quốc lộ 1A.
Quốc lộ 1A và tỉnh lộ 8.
Công trình khởi công năm 2019, dự kiến xong năm 2025.
Khu đô thị Mỹ Gia gói 5, lô 12.
Mã hồ sơ 000123456 trên cổng dịch vụ công.
Biên lai số 0012345 ngày 12/03/2025.
Mẫu số 01/TK-TS kê khai tài sản.
Đợt 2 năm 2024, 45 hồ sơ bị trả lại.
# ---- handles and emails look-alikes
Tôi nhắn cho tài khoản chính thức của Thanh tra.
Trang web thanhtra.khanhhoa.example không hoạt động.
Họ gửi thông báo qua cổng dịch vụ công.
Price is $5 @ the market.
See section 3.2 of the report.
Email công vụ của phường không phản hồi.
Liên hệ qua ứng dụng Zalo của phường.
# ---- plates look-alikes
Tuyến xe buýt số 4 chạy qua phường.
Căn hộ 12A tầng 5.
Điều 12 khoản 3 điểm a.
Lớp 12A1 trường THPT Lý Tự Trọng.
Block B2, tầng 12, căn 1208.
Chung cư CT1 tầng 15.
Khu 79 ha đất rừng bị lấn chiếm.
Tỉnh Khánh Hòa có mã biển số 79, Ninh Thuận là 85.
# ---- english narratives
The official asked for money to approve my land certificate.
They threatened to close my shop if I did not pay.
Nobody from the ward office answered my complaint in 2024.
I saw the chairman take an envelope on March 12.
Please investigate the land allocation in Cam Ranh.
The inspector came twice, in May and in June 2024.
Over 30 families lost their land.
# ---- vietnamese narratives without diacritics
can bo dia chinh doi tien moi ky giay chung nhan
ong chu tich xa nhan phong bi 2 trieu
ho cuong che nha dan ma khong co quyet dinh
toi da gui don 3 lan nhung khong duoc tra loi
nam 2024 co 15 ho bi thu hoi dat
can bo thue thu tien khong co bien lai
# ---- vietnamese narratives
Cán bộ địa chính gây khó dễ khi làm sổ đỏ.
Chủ tịch xã nhận phong bì trong cuộc họp.
Công an phường đánh người dân ngày 5/6.
Trường học thu nhiều khoản không đúng quy định.
Dự án nâng cấp đường bị rút ruột.
Bệnh viện thu thêm tiền ngoài viện phí.
Người dân đã kiến nghị nhiều lần từ năm 2020.
Kính gửi Thanh tra tỉnh Khánh Hòa.
Tôi xin cam đoan những điều trên là đúng sự thật.
Trân trọng cảm ơn.
Hồ sơ gồm 3 bản photo và 1 bản gốc.
Phường Vĩnh Hải, thành phố Nha Trang, tỉnh Khánh Hòa.
Xã Diên Phú, huyện Diên Khánh.

# ---- harder negatives
Mức phạt từ 4.000.000 - 6.000.000 đồng theo Nghị định 100/2019/NĐ-CP.
Mã giao dịch 123456789 trên biên lai.
Mã số hồ sơ: 000.00.00.H34-250312-0001.
Giờ làm việc từ 7h30 đến 17h00, thứ Hai đến thứ Sáu.
ISBN 978-604-0-12345-6 trên sách giáo khoa bị bán giá cao.
Tờ khai số 10234567891 đã nộp.
Phiếu thu 00123456 ngày 12/03.
Tôi là Trưởng thôn nhưng không được mời họp.
Tôi là Chủ tịch Hội Nông dân xã.
Tôi là Phó Chủ tịch Hội Cựu chiến binh.
Tôi là Giám đốc một công ty nhỏ.
Tôi là Kế toán của trường.
Chị ấy tên là Lan, làm ở phường.
Người đó tên là Nguyễn Văn C, cán bộ thuế.
Tên ông ấy là Trần Văn D.
His name is Tran Van E and he works at the ward.
Anh của tôi là Nguyễn Văn F.
Số điện thoại của cán bộ đó tôi không biết.
Tôi không nhớ số tài khoản.
Mã số thuế của công ty ông ấy ghi trên bảng hiệu.
Họ yêu cầu ghi rõ họ tên và địa chỉ.
Họ và tên người bị tố cáo: Nguyễn Văn G.
Ông ấy sống ở phường Vĩnh Hải.
Cán bộ ở số 3 Lê Lợi là người nhận tiền.
I have lived here since 2010.
I am 45 years old.
I'm 30 and I run a shop.
Tôi 45 tuổi, làm nông.
Người gửi thư không ký tên.
Ngày 1/1/2025 có 2 xe 16 chỗ đến.
Giá 79.000 đồng/kg.
Tổ 79, khu phố 5.
Lúc đó tôi ở phường làm giấy tờ cả buổi.
Tôi ở đó từ sáng đến chiều.
Mã số 123.456.789 của hồ sơ.
Tôi làm ở Công ty ABC, mã nhân viên 001234.
Tôi sinh ngày 12/03/1985.
Ông ta nhận 20tr vào ngày 15/5/2024 lúc 9h.
Phòng 305 nhà B, chung cư 12 tầng.
Tôi đã gửi 3 đơn, mã TL-7Q4M, TL-8R5N.
# ---- known false positives (a role word that is also a given name)
Tôi là Thanh tra viên đã nghỉ hưu.
Lúc đó tôi ở tổ dân phố họp.
"""

MARK = re.compile(r"⟦(\w+)\|(.+?)⟧")


def parse(line):
    expect = []
    out = []
    pos = 0
    for m in MARK.finditer(line):
        out.append(line[pos:m.start()])
        code, text = m.group(1), m.group(2)
        expect.append({"kind": K[code], "text": text})
        out.append(text)
        pos = m.end()
    out.append(line[pos:])
    return "".join(out), expect


def lines(block):
    for raw in block.strip("\n").split("\n"):
        raw = raw.rstrip()
        if not raw or raw.startswith("#"):
            continue
        yield raw


def main():
    rows = []
    seen = set()
    for raw in list(lines(POS)) + list(lines(NEG)):
        text, expect = parse(raw)
        if text in seen:
            sys.exit(f"duplicate line: {text}")
        seen.add(text)
        rows.append({"text": text, "expect": expect})
    neg = sum(1 for r in rows if not r["expect"])
    with open(sys.argv[1], "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"{len(rows)} lines, {neg} negatives", file=sys.stderr)


if __name__ == "__main__":
    main()
