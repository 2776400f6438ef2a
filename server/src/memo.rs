//! Values derived from the database that cost too much to derive on every request, kept by this process.
//! A key names everything its value was derived from, including a version the database keeps and bumps
//! on every change to those inputs: a changed input means a new key, so an entry is never stale, only
//! unused until the memo, being full, drops it. Several processes on one database each keep their own.

use std::any::Any;
use std::sync::Arc;

/// Entries kept at most; each is a few numbers.
const CAPACITY: usize = 10_000;

pub struct Memo(quick_cache::sync::Cache<String, Arc<dyn Any + Send + Sync>>);

impl Default for Memo {
    fn default() -> Self {
        Memo(quick_cache::sync::Cache::new(CAPACITY))
    }
}

impl Memo {
    /// The value kept under `key`, if it was kept as a `T`.
    fn get<T: Clone + Send + Sync + 'static>(&self, key: &str) -> Option<T> {
        self.0.get(key).and_then(|value| value.downcast_ref::<T>().cloned())
    }

    fn insert<T: Send + Sync + 'static>(&self, key: String, value: T) {
        self.0.insert(key, Arc::new(value));
    }

    /// The value kept under `key`, or the one `derive` gives, kept for next time (an error is not kept).
    pub async fn get_or_derive<T, E>(&self, key: String, derive: impl Future<Output = Result<T, E>>) -> Result<T, E>
    where
        T: Clone + Send + Sync + 'static,
    {
        if let Some(value) = self.get::<T>(&key) {
            return Ok(value);
        }
        let value = derive.await?;
        self.insert(key, value.clone());
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::Memo;

    #[test]
    fn keeps_values_by_key_and_type() {
        let memo = Memo::default();
        memo.insert("a:1".into(), (3_i64, 2_i64));
        assert_eq!(memo.get::<(i64, i64)>("a:1"), Some((3, 2)));
        assert_eq!(memo.get::<(i64, i64)>("a:2"), None, "another key");
        assert_eq!(memo.get::<String>("a:1"), None, "another type");
    }

    #[tokio::test]
    async fn derives_once_and_keeps_no_error() {
        let memo = Memo::default();
        let failed: Result<i64, &str> = memo.get_or_derive("b".into(), async { Err("down") }).await;
        assert_eq!(failed, Err("down"));
        assert_eq!(memo.get_or_derive::<i64, &str>("b".into(), async { Ok(1) }).await, Ok(1));
        assert_eq!(memo.get_or_derive::<i64, &str>("b".into(), async { Ok(2) }).await, Ok(1), "kept");
    }
}
