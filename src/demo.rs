//! `tipline demo`: the whole pipeline in seconds, with no token and no network. It starts the
//! Bot API simulator on 127.0.0.1, a throw-away SQLite database and demo keys in memory, runs
//! the real bot against the simulator, plays a scripted citizen through a complete Vietnamese
//! report, prints the conversation as a person would see it, then opens the stored case with
//! the demo reviewer key and prints what the Inspectorate receives.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, anyhow};

use crate::bot::App;
use crate::config::{Config, Env};
use crate::crypto::keyfile::KdfParams;
use crate::crypto::receipt::ReceiptDeriver;
use crate::crypto::{ItemKind, RecipientRole, Sealed, ServerSecret, suite};
use crate::dialogue::summary::{CaseSummary, Identity};
use crate::sim::{Citizen, Content, SimUser, Simulator};
use crate::store::Store;

struct NoEnv;

impl Env for NoEnv {
    fn var(&self, _: &str) -> Option<String> {
        None
    }
}

async fn press(c: &Citizen, label: &str) -> anyhow::Result<()> {
    c.try_press(label)
        .await
        .map(|_| ())
        .map_err(|e| anyhow!("the scripted citizen got stuck: {e}"))
}

async fn say(c: &Citizen, text: &str) -> anyhow::Result<()> {
    c.try_act(Content::text(text))
        .await
        .map(|_| ())
        .map_err(|e| anyhow!("the scripted citizen got stuck: {e}"))
}

/// Runs the demo and prints it to standard output.
pub async fn run() -> anyhow::Result<()> {
    let dir = tempfile_dir()?;
    let url = format!("sqlite:{}", dir.join("demo.db").display());
    let store = Store::open(&url)
        .await
        .context("creating the demo database")?;
    let (reviewer_sk, reviewer_pk) = suite::generate_keypair();
    let (custodian_sk, custodian_pk) = suite::generate_keypair();
    // The demo plays the offline keyring authority too: it signs the two keys, and the bot
    // seals only to keys that the signed chain proves.
    let authority = crate::crypto::sign::SigningKey::generate();
    for (role, name, key) in [
        (RecipientRole::Reviewer, "Demo reviewer", reviewer_pk),
        (RecipientRole::Custodian, "Demo custodian", custodian_pk),
    ] {
        crate::trust::register(
            &store,
            &authority,
            crate::trust::Op::Add {
                role,
                name: name.into(),
                key,
                verify: crate::crypto::sign::SigningKey::generate().verifying_key(),
            },
        )
        .await?;
    }
    let trust = Arc::new(crate::trust::Trust::new(
        crate::trust::Authorities::single(authority.verifying_key()),
        None,
    ));
    let config = Config::load(Some(&dir), None, &NoEnv)?;
    let sim = Simulator::start()
        .await
        .map_err(|e| anyhow!("starting the simulator: {e}"))?;
    let app = Arc::new(
        App::new(
            store.clone(),
            ServerSecret::generate(),
            ReceiptDeriver::with_params(2, KdfParams::INSECURE_FOR_TESTS),
            config.limits.clone(),
            config.retention.clone(),
            config.contacts.clone(),
            trust,
        )
        // The simulator has no flood limits; let the demo run at full speed.
        .with_pace(crate::bot::pace::PaceLimits::NONE),
    );
    let api = url::Url::parse(&sim.api_url())?;
    let bot = teloxide::Bot::new(sim.token()).set_api_url(api);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let bot_task = tokio::spawn(crate::bot::run_polling(bot, app, async move {
        let _ = stopped.await;
    }));

    println!(
        "tipline demo: the real bot, a simulated Telegram on 127.0.0.1, a temporary database.\n"
    );
    let c = sim
        .citizen(SimUser::new(424_242, "Hoa").language("vi"))
        .with_quiet_period(Duration::from_millis(400));
    c.try_act(Content::text("/start"))
        .await
        .map_err(|e| anyhow!("{e}"))?;
    press(&c, "✅ Đồng ý, bắt đầu").await?;
    press(&c, "Đòi tiền").await?;
    press(&c, "Đất đai").await?;
    say(&c, "văn phòng đăng ký đất đai").await?;
    press(&c, "Sở Nông nghiệp và Môi trường").await?;
    say(&c, "Cam Lập").await?;
    press(&c, "xã Nam Cam Ranh").await?;
    press(&c, "Tháng trước").await?;
    say(&c, "ông Nguyễn Văn Tư, cán bộ địa chính").await?;
    say(&c, "Khi tôi nộp hồ sơ cấp sổ đỏ, cán bộ nói phải \"bồi dưỡng\" 2 triệu đồng mới nhận. Số của tôi là 0905 000 123.").await?;
    press(&c, "👥 Có người chứng kiến").await?;
    press(&c, "✅ Gửi phản ánh").await?;
    press(&c, "🗑 Đã chép mã").await?;
    press(&c, "Đã chép, xóa tin này").await?;
    press(&c, "Giữ lại").await?;

    println!("── What the citizen sees in Telegram ──────────────────────────────\n");
    println!("{}\n", c.transcript());

    println!("── What the Inspectorate receives (opened with the demo reviewer key) ──\n");
    // The day's intake batch (which `serve` writes after midnight) names the case.
    store
        .audit_intake(crate::clock::Day::today().plus(1))
        .await?;
    let cases = store.audit_entries(1, 100).await?;
    let code = cases
        .iter()
        .find(|e| e.entry.action == "case.submit")
        .and_then(|e| e.entry.case_code.clone())
        .ok_or_else(|| anyhow!("no case was stored"))?;
    let case = store
        .case_by_code(&crate::ids::CaseCode::parse(&code).ok_or_else(|| anyhow!("bad case code"))?)
        .await?;
    println!(
        "Case {} — status {}, received {}",
        case.code,
        case.status.as_str(),
        case.created_day
    );
    for item in store.items(&case.id).await? {
        match item.kind {
            ItemKind::Summary => {
                let s: Sealed<CaseSummary> = Sealed::from_bytes(item.blob);
                let summary = s.open(ItemKind::Summary, &case.id, &reviewer_sk)?;
                println!("\n{}\n", summary.render(crate::dialogue::texts::Lang::Vi));
            }
            ItemKind::Identity => {
                let s: Sealed<Identity> = Sealed::from_bytes(item.blob);
                let reviewer_try = s.open(ItemKind::Identity, &case.id, &reviewer_sk);
                println!(
                    "Reporter identity: sealed to custodians only ({} bytes). The reviewer key {}.",
                    s.as_bytes().len(),
                    if reviewer_try.is_err() {
                        "cannot open it"
                    } else {
                        "COULD open it (this is a bug)"
                    }
                );
                let id = s.open(ItemKind::Identity, &case.id, &custodian_sk)?;
                println!(
                    "A custodian, after an approved disclosure request, would see: Telegram user {} ({}).",
                    id.telegram_user_id, id.first_name
                );
            }
            _ => {}
        }
    }
    println!(
        "\nThe database holds only ciphertext, public keys, day-precision dates and pseudonyms."
    );
    let _ = stop.send(());
    let _ = tokio::time::timeout(Duration::from_secs(10), bot_task).await;
    store.close().await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

fn tempfile_dir() -> anyhow::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!(
        "tipline-demo-{}",
        hex::encode(crate::crypto::random_array::<6>())
    ));
    std::fs::create_dir_all(&dir).context("creating a temporary directory")?;
    Ok(dir)
}
