//! One command at a time per complaint within a process. Commands on one busy
//! case (a hot case collecting notes from many desks) then take turns on the
//! cached state instead of racing to the database and retrying; races with other
//! processes are still settled by the append's unique key.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::{Mutex as TurnLock, OwnedMutexGuard};

#[derive(Default)]
pub struct CaseQueue {
    turns: Mutex<HashMap<String, Arc<TurnLock<()>>>>,
}

/// A complaint's turn; the next command on it starts when this is dropped.
pub struct Turn<'a> {
    queue: &'a CaseQueue,
    id: String,
    guard: Option<OwnedMutexGuard<()>>,
}

impl CaseQueue {
    pub async fn turn(&self, id: &str) -> Turn<'_> {
        let lock = {
            let mut turns = self.turns.lock().unwrap_or_else(|p| p.into_inner());
            turns.entry(id.to_string()).or_default().clone()
        };
        Turn {
            queue: self,
            id: id.to_string(),
            guard: Some(lock.lock_owned().await),
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.turns.lock().unwrap().len()
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        let mut turns = self.queue.turns.lock().unwrap_or_else(|p| p.into_inner());
        self.guard = None;
        // Nobody else waits when only the map still holds the lock: forget it, so
        // the map holds only the complaints with a command in flight.
        if turns
            .get(&self.id)
            .is_some_and(|lock| Arc::strong_count(lock) == 1)
        {
            turns.remove(&self.id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn turns_on_one_complaint_follow_each_other_and_leave_nothing_behind() {
        let queue = Arc::new(CaseQueue::default());
        let inside: Arc<[std::sync::atomic::AtomicUsize; 2]> = Arc::new(Default::default());
        let tasks: Vec<_> = (0..32)
            .map(|i| {
                let (queue, inside) = (queue.clone(), inside.clone());
                tokio::spawn(async move {
                    let (id, inside) = (["a", "b"][i % 2], &inside[i % 2]);
                    let _turn = queue.turn(id).await;
                    let before = inside.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    assert_eq!(before, 0, "one turn per complaint at a time");
                    tokio::task::yield_now().await;
                    inside.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(queue.len(), 0);
    }
}
