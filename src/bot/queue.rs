//! Long polling: one chat's updates handled one after another, chats independently of each
//! other, without leaning on teloxide's per-chat workers for either.
//!
//! Why: teloxide's dispatcher keeps a worker per chat and, once it holds more workers than it
//! has seen busy at once, stops the idle ones, awaiting each it stops. A worker that has just
//! taken an update looks idle for an instant; when the dispatcher looks in that instant it
//! waits for that update's whole turn, and dispatches nothing else meanwhile. One slow turn
//! (Telegram slow to answer a receipt, a large file being cleaned) then froze every citizen
//! until it ended (`tests/crash_submit.rs` saw it: one receipt delivered and held, the next two
//! people's presses never handled). Here the dispatcher's handler only queues the update and
//! returns at once, so its workers are never busy for long; a task per chat with updates drains
//! that chat's queue in order and ends when it is empty.
//!
//! Invariants: at most one task per chat, so a chat's updates are handled one at a time in the
//! order the dispatcher gave them; the map holds only chats with updates queued or in hand
//! (keyed by chat id, as teloxide's own worker map is, and emptied as each drains); a panic in
//! a turn is contained to that update; [`ChatQueues::drained`] resolves once no task runs.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use futures_util::FutureExt;
use teloxide::types::Update;
use tokio::sync::Notify;
use tracing::warn;

use super::{App, TgBot};

/// Updates one chat may have waiting behind the one in hand; more are dropped (the flood limit
/// would ignore them anyway: this only bounds memory).
const MAX_QUEUED: usize = 1000;

/// The chats with updates waiting or in hand.
#[derive(Default)]
pub struct ChatQueues {
    queues: Mutex<HashMap<i64, VecDeque<Update>>>,
    running: AtomicUsize,
    idle: Notify,
}

/// What [`ChatQueues::enqueue`] did with an update.
enum Queued {
    /// No task drains this chat: start one with the update.
    Start(Box<Update>),
    /// Behind the chat's update in hand.
    Waiting,
    /// The chat's queue is full: dropped.
    Dropped,
}

impl ChatQueues {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i64, VecDeque<Update>>> {
        self.queues.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn enqueue(&self, chat: i64, update: Update) -> Queued {
        let mut queues = self.lock();
        match queues.get_mut(&chat) {
            Some(waiting) if waiting.len() >= MAX_QUEUED => Queued::Dropped,
            Some(waiting) => {
                waiting.push_back(update);
                Queued::Waiting
            }
            None => {
                queues.insert(chat, VecDeque::new());
                Queued::Start(Box::new(update))
            }
        }
    }

    /// The chat's next update; `None`, and the chat forgotten, once its queue is empty.
    fn next(&self, chat: i64) -> Option<Update> {
        let mut queues = self.lock();
        let next = queues.get_mut(&chat).and_then(VecDeque::pop_front);
        if next.is_none() {
            queues.remove(&chat);
        }
        next
    }

    /// Chats with updates waiting or in hand (tests).
    pub fn chats(&self) -> usize {
        self.lock().len()
    }

    /// Resolves once no update is in hand or waiting.
    pub async fn drained(&self) {
        loop {
            // Created before the check: a wake-up between the check and the wait is not lost.
            let idle = self.idle.notified();
            if self.running.load(Ordering::SeqCst) == 0 {
                return;
            }
            idle.await;
        }
    }

    fn started(&self) {
        self.running.fetch_add(1, Ordering::SeqCst);
    }

    fn finished(&self) {
        if self.running.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.idle.notify_waiters();
        }
    }
}

/// Handles one update, a panic contained (logged by kind only; the chat's next updates go on).
async fn handle(bot: &TgBot, app: &Arc<App>, update: Update) {
    let turn = super::handle_update(bot.clone(), Arc::clone(app), update);
    if std::panic::AssertUnwindSafe(turn)
        .catch_unwind()
        .await
        .is_err()
    {
        warn!("an update's handling panicked; the chat goes on with its next update");
    }
}

/// Queues `update` behind its chat's earlier ones, starting the chat's task if none runs, and
/// returns at once. An update without a chat is handled on a task of its own.
pub fn dispatch(bot: TgBot, app: Arc<App>, update: Update) {
    let Some(chat) = update.chat().map(|c| c.id.0) else {
        app.queues.started();
        tokio::spawn(async move {
            handle(&bot, &app, update).await;
            app.queues.finished();
        });
        return;
    };
    let first = match app.queues.enqueue(chat, update) {
        Queued::Start(first) => *first,
        Queued::Waiting => return,
        Queued::Dropped => {
            warn!(
                limit = MAX_QUEUED,
                "a chat's queue is full: an update was dropped"
            );
            return;
        }
    };
    app.queues.started();
    tokio::spawn(async move {
        let mut next = Some(first);
        while let Some(update) = next {
            handle(&bot, &app, update).await;
            next = app.queues.next(chat);
        }
        app.queues.finished();
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn update(id: u32, chat: i64) -> Update {
        serde_json::from_value(serde_json::json!({
            "update_id": id,
            "message": {
                "message_id": id,
                "date": 0,
                "chat": {"id": chat, "type": "private", "first_name": "A"},
                "from": {"id": chat, "is_bot": false, "first_name": "A"},
                "text": "x"
            }
        }))
        .unwrap()
    }

    #[test]
    fn one_drainer_per_chat_in_order_and_bounded() {
        let q = ChatQueues::default();
        assert!(matches!(q.enqueue(1, update(1, 1)), Queued::Start(_)));
        assert!(matches!(q.enqueue(1, update(2, 1)), Queued::Waiting));
        assert!(matches!(q.enqueue(1, update(3, 1)), Queued::Waiting));
        // Another chat does not wait behind the first.
        assert!(matches!(q.enqueue(2, update(4, 2)), Queued::Start(_)));
        assert_eq!(q.next(1).map(|u| u.id.0), Some(2));
        assert_eq!(q.next(1).map(|u| u.id.0), Some(3));
        assert!(q.next(1).is_none());
        // Chat 1 is forgotten once drained; chat 2's update is still in hand.
        assert_eq!(q.chats(), 1);
        assert!(matches!(q.enqueue(1, update(5, 1)), Queued::Start(_)));
        for i in 0..MAX_QUEUED {
            assert!(matches!(
                q.enqueue(1, update(10 + i as u32, 1)),
                Queued::Waiting
            ));
        }
        assert!(matches!(q.enqueue(1, update(9, 1)), Queued::Dropped));
    }

    #[tokio::test]
    async fn drained_waits_for_the_last_task() {
        let q = Arc::new(ChatQueues::default());
        q.started();
        q.started();
        let waiter = tokio::spawn({
            let q = Arc::clone(&q);
            async move { q.drained().await }
        });
        q.finished();
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        q.finished();
        tokio::time::timeout(std::time::Duration::from_secs(5), waiter)
            .await
            .unwrap()
            .unwrap();
    }
}
