//! What the server process costs, read from `/proc`: resident memory and open descriptors; and
//! the test's own descriptor limit, raised so that thousands of streams fit.

use std::fs;
use std::time::Duration;

use tokio::task::JoinHandle;

/// Resident set size of `pid` in bytes (`VmRSS` of `/proc/PID/status`).
pub fn rss_bytes(pid: u32) -> u64 {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|kib| kib.parse::<u64>().ok())
        .map_or(0, |kib| kib * 1024)
}

/// How many file descriptors `pid` holds open.
pub fn open_fds(pid: u32) -> usize {
    fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, Iterator::count)
}

/// CPU time `pid` has used so far, user and system (`/proc/PID/stat`, in clock ticks).
pub fn cpu_time(pid: u32) -> Duration {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The command name may hold spaces: fields are counted after its closing parenthesis.
    let fields: Vec<&str> = stat
        .rfind(')')
        .and_then(|at| stat.get(at + 2..))
        .map(|rest| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // SAFETY: sysconf reads a constant of the system.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    let per_second = u64::try_from(per_second).unwrap_or(100).max(1);
    Duration::from_secs_f64((ticks(11) + ticks(12)) as f64 / per_second as f64)
}

/// Waits until `pid` has been (nearly) idle for a second — under a tenth of a second of CPU —
/// or `limit` passes; answers how long it waited.
pub async fn settle(pid: u32, limit: Duration) -> Duration {
    let began = tokio::time::Instant::now();
    let mut before = cpu_time(pid);
    while began.elapsed() < limit {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let now = cpu_time(pid);
        if now.saturating_sub(before) < Duration::from_millis(100) {
            break;
        }
        before = now;
    }
    began.elapsed()
}

/// Raises this process's soft `RLIMIT_NOFILE` to its hard limit (children started afterwards,
/// the server among them, inherit it) and answers the soft limit now in force.
pub fn raise_fd_limit() -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write the struct we pass.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return 1024;
        }
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: limit.rlim_max,
                rlim_max: limit.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                limit = raised;
            }
        }
    }
    limit.rlim_cur
}

/// Bytes as MiB, for the figures.
pub fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// Samples the RSS of `pid` every `every` until stopped; answers the peak.
pub struct PeakRss {
    stop: tokio::sync::watch::Sender<bool>,
    task: JoinHandle<u64>,
}

impl PeakRss {
    pub fn start(pid: u32, every: Duration) -> PeakRss {
        let (stop, mut stopped) = tokio::sync::watch::channel(false);
        let task = tokio::spawn(async move {
            let mut peak = rss_bytes(pid);
            loop {
                tokio::select! {
                    _ = stopped.wait_for(|s| *s) => return peak.max(rss_bytes(pid)),
                    () = tokio::time::sleep(every) => peak = peak.max(rss_bytes(pid)),
                }
            }
        });
        PeakRss { stop, task }
    }

    pub async fn finish(self) -> u64 {
        self.stop.send_replace(true);
        self.task.await.unwrap_or(0)
    }
}
