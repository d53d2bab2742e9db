//! A rolling restart under load on PostgreSQL: two `api` processes behind a
//! real HAProxy and two `worker` processes, each restarted in turn (SIGTERM,
//! exit, start, ready) while submitters send commands and a subscriber follows
//! every event through HAProxy. No client may see a failure (an UNAVAILABLE
//! retried with its `commandId` is counted, not failed), every acknowledged
//! command is in the log once, and the subscriber sees every event once, each
//! complaint's in order. Needs HAProxy (scripts/ensure-haproxy).

mod load;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aduan_testkit::{HaProxy, TestServer, TestStore};

use crate::support::*;
use load::{Subscriber, Tally};

/// The API processes' drain: several HAProxy check intervals.
const API_DRAIN_MS: &str = "2000";
const SUBMITTERS: usize = 4;

/// One process of the deployment, and how to start it again.
struct Process {
    name: &'static str,
    role: &'static str,
    /// Where it listens: an API process comes back on its port (HAProxy's
    /// config names it); a worker anywhere.
    addr: String,
    server: TestServer,
}

impl Process {
    async fn start(name: &'static str, role: &'static str, url: &str, addr: &str) -> Process {
        let env = [
            ("ADUAN_ROLE", role),
            ("ADUAN_SHUTDOWN_DRAIN_MS", API_DRAIN_MS),
        ];
        let server = TestServer::start_at(BIN, url, addr, &env).await;
        let addr = if role == "api" {
            server.addr().to_string()
        } else {
            addr.to_string()
        };
        Process {
            name,
            role,
            addr,
            server,
        }
    }
}

/// How long one restart took: SIGTERM to exit, and start to ready (in HAProxy
/// for an API process, `/readyz` for a worker).
struct Restart {
    name: &'static str,
    stop: Duration,
    start: Duration,
    /// A worker's: SIGTERM until the other worker held all its elections.
    takeover: Option<Duration>,
}

/// The followers `log` says its process was elected for.
fn elected(log: &str) -> HashSet<String> {
    log.lines()
        .filter(|l| l.contains(" elected"))
        .filter_map(|l| l.split("follower=").nth(1))
        .map(|rest| rest.split_whitespace().next().unwrap_or("").to_string())
        .collect()
}

async fn ready(server: &TestServer) {
    for _ in 0..400 {
        if server.get("/readyz").await.status() == 200 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("not ready within 20 s:\n{}", server.log());
}

/// Restarts `process` (SIGTERM, exit 0, start, ready); for a worker, also
/// waits until `standby` holds every election `process` held.
async fn restart(
    process: Process,
    url: &str,
    proxy: &HaProxy,
    standby: Option<&TestServer>,
) -> (Process, Restart) {
    let Process {
        name,
        role,
        addr,
        server,
    } = process;
    let held = elected(&server.log());
    let signalled = Instant::now();
    server.terminate();
    let took_over = async {
        let standby = standby?;
        for _ in 0..300 {
            if held.is_subset(&elected(&standby.log())) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let took = elected(&standby.log());
        assert!(
            held.is_subset(&took),
            "the standby took {took:?} of {held:?}"
        );
        Some(signalled.elapsed())
    };
    let exited = async {
        let status = server.wait_exit().await;
        assert!(status.success(), "{name} exited with {status}");
        signalled.elapsed()
    };
    let (takeover, stop) = tokio::join!(took_over, exited);
    let started = Instant::now();
    let process = Process::start(name, role, url, &addr).await;
    if role == "api" {
        proxy.wait_status(name, "UP").await;
    } else {
        ready(&process.server).await;
    }
    let start = started.elapsed();
    let restart = Restart {
        name,
        stop,
        start,
        takeover,
    };
    (process, restart)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_rolling_restart_under_load_fails_no_request_and_misses_no_event() {
    let store = TestStore::create(Backend::Postgres).await;
    let url = store.url.clone();
    let mut workers = vec![
        Process::start("worker1", "worker", &url, "127.0.0.1:0").await,
        Process::start("worker2", "worker", &url, "127.0.0.1:0").await,
    ];
    let mut apis = vec![
        Process::start("api1", "api", &url, "127.0.0.1:0").await,
        Process::start("api2", "api", &url, "127.0.0.1:0").await,
    ];
    let servers: Vec<(&str, &str)> = apis.iter().map(|p| (p.name, p.addr.as_str())).collect();
    let proxy = HaProxy::start(&servers).await;
    let graphql = format!("{}/graphql", proxy.base_url);
    let stop = Arc::new(AtomicBool::new(false));
    let mut submitters = Vec::new();
    for i in 0..SUBMITTERS {
        let server = &apis[0].server;
        let clients = load::Clients {
            url: graphql.clone(),
            citizen: server.token("CITIZEN", None, &format!("warga-{i}")).await,
            agent: server.token("AGENT", None, &format!("agent-{i}")).await,
        };
        submitters.push(tokio::spawn(load::submitter(clients, stop.clone())));
    }
    let supervisor = apis[0].server.token("SUPERVISOR", None, "spv-1").await;
    let seen = Arc::new(Mutex::new(Subscriber::default()));
    let done = Arc::new(AtomicBool::new(false));
    let following = tokio::spawn(load::subscriber(
        proxy.base_url.clone(),
        supervisor.clone(),
        seen.clone(),
        done.clone(),
    ));

    let began = Instant::now();
    let mut restarts = Vec::new();
    for i in 0..apis.len() {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let (process, took) = restart(apis.remove(i), &url, &proxy, None).await;
        apis.insert(i, process);
        restarts.push(took);
    }
    for i in 0..workers.len() {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let process = workers.remove(i);
        let standby = &workers[0].server;
        let (process, took) = restart(process, &url, &proxy, Some(standby)).await;
        workers.insert(i, process);
        restarts.push(took);
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop.store(true, Ordering::Relaxed);
    let mut tally = Tally::default();
    for task in submitters {
        tally.add(task.await.expect("a submitter"));
    }
    println!(
        "rolling restart in {:.1} s: {} requests, {} commands acknowledged, {} retried after \
         UNAVAILABLE, {} failed",
        began.elapsed().as_secs_f64(),
        tally.requests,
        tally.acknowledged.len(),
        tally.retried,
        tally.failures.len(),
    );
    for r in &restarts {
        let takeover = r.takeover.map_or(String::new(), |t| {
            format!(", the other worker elected after {:.2} s", t.as_secs_f64())
        });
        println!(
            "  {}: SIGTERM to exit {:.2} s, start to ready {:.2} s{takeover}",
            r.name,
            r.stop.as_secs_f64(),
            r.start.as_secs_f64()
        );
    }

    let events = check_log(&store, &tally).await;
    let subscriber = collect(&seen, events.len(), done, following).await;
    println!(
        "  {} events; the subscriber saw {} and resumed {} times after 1001",
        events.len(),
        subscriber.seen.len(),
        subscriber.resumed,
    );
    check_subscriber(&subscriber, &events);
    // The workers' followers carried on: the projections reach the log's end.
    let through_proxy = aduan_testkit::GraphqlClient::at(&graphql, &supervisor);
    caught_up(&store, &through_proxy).await;
    proxy.stop().await;
    for process in apis.into_iter().chain(workers) {
        stop_cleanly(process.server).await;
    }
    store.drop_store().await;
}

/// Every acknowledged command is in the log once, under the complaint it was
/// acknowledged with, and nothing else was submitted; the log's complaint
/// events as (position, complaint).
async fn check_log(store: &TestStore, tally: &Tally) -> HashMap<i64, String> {
    assert!(
        tally.failures.is_empty(),
        "{} requests failed at HAProxy: {:?}",
        tally.failures.len(),
        tally.failures
    );
    assert!(tally.acknowledged.len() > 100, "too little load: {tally:?}");
    store.settle().await;
    let stored = store
        .texts(
            "SELECT (metadata ->> 'command_id') || ' ' || aggregate_id FROM events \
             WHERE aggregate_type = 'Complaint' AND metadata ->> 'command_id' IS NOT NULL",
        )
        .await;
    let mut times: HashMap<&str, usize> = HashMap::new();
    for row in &stored {
        *times.entry(row.as_str()).or_default() += 1;
    }
    let complaints: HashSet<&str> = tally
        .acknowledged
        .iter()
        .map(|(_, id)| id.as_str())
        .collect();
    let submitted = store
        .scalar("SELECT count(*) FROM events WHERE event_type = 'Submitted'")
        .await;
    assert_eq!(submitted, complaints.len() as i64, "no other submission");
    for (command, id) in &tally.acknowledged {
        let row = format!("{command} {id}");
        assert_eq!(
            times.get(row.as_str()),
            Some(&1),
            "command {command} on {id}: once in the log"
        );
    }
    let rows = store
        .texts(
            "SELECT position::text || ' ' || aggregate_id FROM events \
             WHERE aggregate_type = 'Complaint'",
        )
        .await;
    rows.iter()
        .map(|row| {
            let (position, id) = row.split_once(' ').unwrap();
            (position.parse().unwrap(), id.to_string())
        })
        .collect()
}

/// Waits (up to 20 s) for the subscriber to have seen as many notices as the
/// log has events, then stops it.
async fn collect(
    seen: &Arc<Mutex<Subscriber>>,
    events: usize,
    done: Arc<AtomicBool>,
    following: tokio::task::JoinHandle<()>,
) -> Subscriber {
    for _ in 0..400 {
        if seen.lock().unwrap().seen.len() >= events {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // A moment more, for a duplicate to show.
    tokio::time::sleep(Duration::from_millis(300)).await;
    done.store(true, Ordering::Relaxed);
    following.await.expect("the subscriber");
    std::mem::take(&mut *seen.lock().unwrap())
}

fn check_subscriber(subscriber: &Subscriber, events: &HashMap<i64, String>) {
    assert!(
        subscriber.failures.is_empty(),
        "the subscriber: {:?}",
        subscriber.failures
    );
    // It is on one API process at a time: closed by that one's restart, and
    // by the other's too if it resumed there first.
    assert!(
        subscriber.resumed >= 1,
        "closed with 1001 by its API process"
    );
    let mut positions = HashSet::new();
    let mut last_sequence: HashMap<&str, i64> = HashMap::new();
    for notice in &subscriber.seen {
        assert!(
            positions.insert(notice.position),
            "position {} seen twice",
            notice.position
        );
        assert_eq!(
            events.get(&notice.position),
            Some(&notice.complaint),
            "{notice:?} is not in the log"
        );
        let last = last_sequence.entry(&notice.complaint).or_insert(0);
        assert!(notice.sequence > *last, "{notice:?} out of order");
        *last = notice.sequence;
    }
    let missed: Vec<_> = events.keys().filter(|p| !positions.contains(p)).collect();
    assert!(missed.is_empty(), "the subscriber missed {missed:?}");
}
