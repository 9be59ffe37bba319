//! Per-host politeness shared by every request linkrot sends.
//!
//! [`HostLimits`] keeps, for each host name, a semaphore (`--host-concurrency`),
//! the earliest time the next request may start (`--host-interval`, raised by
//! `Retry-After`), and a global semaphore (`--max-concurrency`) over all hosts.
//! Every hop of every redirect chain goes through it, so the limits hold per
//! host name even when a chain crosses hosts. Other stages (archiving, soft-404
//! probes) share the same `HostLimits` so their requests count too.
//!
//! Permits are always taken host first, then global, and a request holds at
//! most one of each: no cycle of waits can form, and a request waiting for a
//! busy host holds no global slot that other hosts could use.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// Politeness state for one host name.
#[derive(Debug)]
struct HostState {
    slots: Arc<Semaphore>,
    pacing: Mutex<Pacing>,
}

#[derive(Debug)]
struct Pacing {
    /// Minimum time between two request starts; only ever raised.
    interval: Duration,
    /// No request to this host may start before this instant.
    next_start: Instant,
}

/// Concurrency and pacing limits per host name and over all hosts.
#[derive(Debug)]
pub struct HostLimits {
    global: Arc<Semaphore>,
    per_host: usize,
    interval: Duration,
    hosts: Mutex<HashMap<String, Arc<HostState>>>,
}

/// A slot on one host, held while waiting for the global limit and while the
/// request runs.
#[derive(Debug)]
pub struct HostPermit {
    host: Arc<HostState>,
    _permit: OwnedSemaphorePermit,
}

/// Permission to send one request now: a host slot, a global slot, and the
/// host's pacing already honoured. Dropping it frees both slots.
#[derive(Debug)]
pub struct RequestSlot {
    _host: HostPermit,
    _global: OwnedSemaphorePermit,
}

impl HostLimits {
    /// Limits of `global` requests at once, `per_host` at once to one host
    /// name, and `interval` between request starts to one host name.
    pub fn new(global: usize, per_host: usize, interval: Duration) -> HostLimits {
        HostLimits {
            global: Arc::new(Semaphore::new(global.max(1))),
            per_host: per_host.max(1),
            interval,
            hosts: Mutex::new(HashMap::new()),
        }
    }

    fn state(&self, host: &str) -> Arc<HostState> {
        let host = host.to_ascii_lowercase();
        let mut hosts = self.hosts.lock().expect("host table poisoned");
        if let Some(state) = hosts.get(&host) {
            return state.clone();
        }
        let state = Arc::new(HostState {
            slots: Arc::new(Semaphore::new(self.per_host)),
            pacing: Mutex::new(Pacing {
                interval: self.interval,
                next_start: Instant::now(),
            }),
        });
        hosts.insert(host, state.clone());
        state
    }

    /// Gives `host` its own concurrency and interval (a config file's
    /// `[hosts."NAME"]` section) instead of the defaults. Call before any
    /// request to that host.
    pub fn configure_host(&self, host: &str, per_host: Option<usize>, interval: Option<Duration>) {
        let state = Arc::new(HostState {
            slots: Arc::new(Semaphore::new(per_host.unwrap_or(self.per_host).max(1))),
            pacing: Mutex::new(Pacing {
                interval: interval.unwrap_or(self.interval),
                next_start: Instant::now(),
            }),
        });
        let mut hosts = self.hosts.lock().expect("host table poisoned");
        hosts.insert(host.to_ascii_lowercase(), state);
    }

    /// Waits for a free slot on `host` (host names compare case-insensitively).
    pub async fn host_permit(&self, host: &str) -> HostPermit {
        let host = self.state(host);
        let permit = host
            .slots
            .clone()
            .acquire_owned()
            .await
            .expect("host semaphore is never closed");
        HostPermit {
            host,
            _permit: permit,
        }
    }

    /// Turns a host slot into permission to send: waits for the host's pacing
    /// and for a global slot. The global slot is not held while sleeping for
    /// the host's interval, so a slow host never idles a global slot.
    pub async fn start(&self, permit: HostPermit) -> RequestSlot {
        loop {
            let ready_at = permit
                .host
                .pacing
                .lock()
                .expect("pacing poisoned")
                .next_start;
            // A timer costs a trip through the time driver (up to a
            // millisecond) even when the instant has passed: skip it then.
            if ready_at > Instant::now() {
                tokio::time::sleep_until(ready_at).await;
            }
            let global = self
                .global
                .clone()
                .acquire_owned()
                .await
                .expect("global semaphore is never closed");
            let mut pacing = permit.host.pacing.lock().expect("pacing poisoned");
            let now = Instant::now();
            if now >= pacing.next_start {
                pacing.next_start = now + pacing.interval;
                drop(pacing);
                return RequestSlot {
                    _host: permit,
                    _global: global,
                };
            }
            // Another request to this host started (or a Retry-After arrived)
            // while this one waited for the global slot: give the slot back.
        }
    }

    /// Waits until one request to `host` may be sent.
    pub async fn acquire(&self, host: &str) -> RequestSlot {
        let permit = self.host_permit(host).await;
        self.start(permit).await
    }

    /// The host asked us to wait (`Retry-After`): no request to it starts
    /// before `wait` has passed, and its interval stays at least `wait` for
    /// the rest of the run.
    pub fn back_off(&self, host: &str, wait: Duration) {
        let state = self.state(host);
        let mut pacing = state.pacing.lock().expect("pacing poisoned");
        pacing.interval = pacing.interval.max(wait);
        let resume = Instant::now() + wait;
        pacing.next_start = pacing.next_start.max(resume);
    }

    /// The current minimum interval between request starts to `host`.
    pub fn interval(&self, host: &str) -> Duration {
        let state = self.state(host);
        let pacing = state.pacing.lock().expect("pacing poisoned");
        pacing.interval
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn configured_hosts_get_their_own_limits() {
        let limits = HostLimits::new(8, 4, Duration::from_millis(50));
        limits.configure_host("Slow.Test", Some(1), Some(Duration::from_secs(2)));
        assert_eq!(limits.interval("slow.test"), Duration::from_secs(2));
        assert_eq!(limits.interval("other.test"), Duration::from_millis(50));
        let first = limits.host_permit("slow.test").await;
        let second =
            tokio::time::timeout(Duration::from_millis(50), limits.host_permit("slow.test")).await;
        assert!(second.is_err(), "one slot on slow.test");
        drop(first);
        let _a = limits.host_permit("other.test").await;
        let _b = limits.host_permit("other.test").await;
    }

    #[tokio::test]
    async fn per_host_and_global_limits_hold() {
        let limits = Arc::new(HostLimits::new(3, 2, Duration::ZERO));
        let in_flight: Arc<Mutex<HashMap<&'static str, usize>>> = Arc::default();
        let peak_host = Arc::new(AtomicUsize::new(0));
        let total = Arc::new(AtomicUsize::new(0));
        let peak_total = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for i in 0..30 {
            let host = ["a", "b"][i % 2];
            let (limits, in_flight, peak_host, total, peak_total) = (
                limits.clone(),
                in_flight.clone(),
                peak_host.clone(),
                total.clone(),
                peak_total.clone(),
            );
            tasks.push(tokio::spawn(async move {
                let _slot = limits.acquire(host).await;
                {
                    let mut m = in_flight.lock().unwrap();
                    let n = m.entry(host).or_default();
                    *n += 1;
                    peak_host.fetch_max(*n, Ordering::SeqCst);
                }
                let t = total.fetch_add(1, Ordering::SeqCst) + 1;
                peak_total.fetch_max(t, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(10)).await;
                total.fetch_sub(1, Ordering::SeqCst);
                *in_flight.lock().unwrap().get_mut(host).unwrap() -= 1;
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(peak_host.load(Ordering::SeqCst), 2);
        assert_eq!(peak_total.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn interval_spaces_request_starts_and_back_off_raises_it() {
        let limits = HostLimits::new(10, 10, Duration::from_millis(60));
        let t0 = Instant::now();
        let _a = limits.acquire("Example.test").await;
        let _b = limits.acquire("example.test").await;
        assert!(t0.elapsed() >= Duration::from_millis(60));
        limits.back_off("example.test", Duration::from_millis(200));
        assert_eq!(limits.interval("example.test"), Duration::from_millis(200));
        let t1 = Instant::now();
        let _c = limits.acquire("example.test").await;
        assert!(t1.elapsed() >= Duration::from_millis(200));
        // Other hosts are not slowed down.
        let t2 = Instant::now();
        let _d = limits.acquire("other.test").await;
        assert!(t2.elapsed() < Duration::from_millis(50));
    }
}
