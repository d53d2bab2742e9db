//! Commands on one complaint within a process go through one queue. The first
//! to arrive leads: it runs its command, then takes everything that queued
//! behind it meanwhile as one group, and so on until the queue is empty. A busy
//! case (a hot case collecting notes from many desks) then commits many commands
//! per database round trip instead of racing to the database and retrying; races
//! with other processes are still settled by the append's unique keys.

use std::collections::HashMap;
use std::sync::Mutex;

pub struct CaseQueue<T> {
    waiting: Mutex<HashMap<String, Vec<T>>>,
}

impl<T> Default for CaseQueue<T> {
    fn default() -> Self {
        CaseQueue {
            waiting: Mutex::default(),
        }
    }
}

impl<T> CaseQueue<T> {
    /// Queues `item` behind the complaint's leader, or, when nobody leads it,
    /// hands it back: the caller leads now and must call `next` until it says
    /// the queue is closed.
    pub fn join(&self, id: &str, item: T) -> Option<T> {
        let mut waiting = self.waiting.lock().unwrap_or_else(|p| p.into_inner());
        match waiting.get_mut(id) {
            Some(queue) => {
                queue.push(item);
                None
            }
            None => {
                waiting.insert(id.to_string(), Vec::new());
                Some(item)
            }
        }
    }

    /// The next group for the leader (at most `max`, in arrival order), or `None`
    /// when nothing waits: the queue is closed and the next arrival leads.
    pub fn next(&self, id: &str, max: usize) -> Option<Vec<T>> {
        let mut waiting = self.waiting.lock().unwrap_or_else(|p| p.into_inner());
        let queue = waiting.get_mut(id)?;
        if queue.is_empty() {
            waiting.remove(id);
            return None;
        }
        let take = queue.len().min(max);
        Some(queue.drain(..take).collect())
    }

    /// Closes the queue of a leader that died: what waited is dropped (whoever
    /// waits for it is told), and the next arrival leads.
    pub fn abandon(&self, id: &str) {
        let mut waiting = self.waiting.lock().unwrap_or_else(|p| p.into_inner());
        waiting.remove(id);
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.waiting.lock().unwrap().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_leader_per_complaint_takes_what_queued_in_order_then_closes() {
        let queue = CaseQueue::default();
        assert_eq!(queue.join("a", 1), Some(1), "the first leads");
        assert_eq!(
            queue.join("b", 10),
            Some(10),
            "another complaint, another leader"
        );
        for n in 2..=5 {
            assert_eq!(queue.join("a", n), None, "queued behind the leader");
        }
        assert_eq!(queue.next("a", 3), Some(vec![2, 3, 4]));
        assert_eq!(queue.next("a", 3), Some(vec![5]));
        assert_eq!(queue.next("a", 3), None, "closed");
        assert_eq!(queue.join("a", 6), Some(6), "the next arrival leads");
        queue.abandon("a");
        assert_eq!(queue.next("b", 3), None);
        assert_eq!(queue.len(), 0);
    }
}
