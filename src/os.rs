//! What the server process asks of the operating system at start: room for many sockets, and an
//! allocator that gives large buffers back.

/// File descriptors kept for everything but client connections: the database pool and watcher,
/// SQLite's files, the listener, logs, and a margin.
const RESERVED_DESCRIPTORS: u64 = 128;

/// Raises the soft open-file limit to the hard one, and answers how many client connections the
/// process can then hold with room to spare. With the usual soft limit (1,024) a thousand idle or
/// slow clients would use every descriptor and the server could no longer accept anyone.
pub fn raise_open_file_limit(reserved_for_pool: u64) -> u64 {
    #[cfg(unix)]
    {
        let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        // SAFETY: getrlimit and setrlimit only read and write the struct passed.
        if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0 {
            if limit.rlim_cur < limit.rlim_max {
                let raised = libc::rlimit { rlim_cur: limit.rlim_max, rlim_max: limit.rlim_max };
                if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
                    limit = raised;
                } else {
                    tracing::warn!(soft = limit.rlim_cur, hard = limit.rlim_max, "cannot raise the open-file limit");
                }
            }
            #[allow(clippy::unnecessary_cast)] // `rlim_t` is not `u64` on every platform
            return (limit.rlim_cur as u64).saturating_sub(RESERVED_DESCRIPTORS + reserved_for_pool).max(64);
        }
    }
    1024 - RESERVED_DESCRIPTORS
}

/// How many heap arenas glibc may make. Its default, eight per core, gives nearly every thread
/// (each worker, each blocking thread) an arena of its own, and each arena keeps what its thread
/// freed: with 8 workers, 15 MiB more was resident after the peer load than with 2 arenas, for no
/// more throughput.
const MALLOC_ARENAS: i32 = 2;

/// Sets glibc's allocator up for a long-running server, before threads start:
/// - every allocation of 1 MiB or more gets its own `mmap`, so that freeing it returns the memory
///   to the system at once. glibc's default threshold rises to the size of the largest block freed
///   so far: after the first password hash (a 19 MiB buffer), every later one came from the heap
///   arenas of the threads hashing, and stayed resident after the load;
/// - at most [`MALLOC_ARENAS`] heap arenas, shared by all threads.
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallopt changes allocator parameters; it is safe to call at any time.
        if unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20) } == 0 {
            tracing::warn!("cannot set the allocator's mmap threshold");
        }
        // SAFETY: as above.
        if unsafe { libc::mallopt(libc::M_ARENA_MAX, MALLOC_ARENAS) } == 0 {
            tracing::warn!("cannot bound the allocator's arenas");
        }
    }
}

/// Gives the calling thread the lowest scheduling priority (nice 19): its work runs when nothing
/// of normal priority wants the core. Linux applies `setpriority` to one thread when given its id.
/// For threads that only ever do background work: an unprivileged process cannot undo it.
pub fn lower_this_threads_priority() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: gettid has no preconditions; setpriority only changes this thread's nice value.
        let thread = unsafe { libc::gettid() };
        if unsafe { libc::setpriority(libc::PRIO_PROCESS, thread as libc::id_t, 19) } != 0 {
            tracing::warn!("cannot lower the priority of a worker thread");
        }
    }
}

/// Creates `path`, which must not exist, readable and writable by its owner only: for files that
/// hold secrets or their hashes (the development JWT secret, a database backup).
pub fn create_private_file(path: &std::path::Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

/// The process as the metrics show it (the standard `process_*` families).
#[derive(Debug, Default)]
pub struct ProcessStats {
    pub resident_bytes: u64,
    pub virtual_bytes: u64,
    /// User and system CPU time since start.
    pub cpu_seconds: f64,
    pub open_fds: u64,
    pub max_fds: u64,
    /// Seconds since the Unix epoch.
    pub start_time_seconds: f64,
    pub threads: u64,
}

/// Read from `/proc/self` (Linux); `None` elsewhere, or when it cannot be read.
pub fn process_stats() -> Option<ProcessStats> {
    #[cfg(target_os = "linux")]
    {
        // Fields after the command name, which is in parentheses and may hold spaces.
        let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
        let fields: Vec<&str> = stat.get(stat.rfind(')')? + 2..)?.split(' ').collect();
        let field = |n: usize| fields.get(n - 3).and_then(|v| v.parse::<u64>().ok());
        // SAFETY: sysconf only reads system constants.
        let (ticks, page) = unsafe { (libc::sysconf(libc::_SC_CLK_TCK), libc::sysconf(libc::_SC_PAGESIZE)) };
        let (ticks, page) = (ticks.max(1) as f64, page.max(1) as u64);
        let boot_time = std::fs::read_to_string("/proc/stat")
            .ok()?
            .lines()
            .find_map(|line| line.strip_prefix("btime ")?.trim().parse::<u64>().ok())?;
        // Less the descriptor reading the directory holds.
        let open_fds = std::fs::read_dir("/proc/self/fd").map_or(0, |dir| dir.count().saturating_sub(1) as u64);
        let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        // SAFETY: getrlimit only writes the struct passed.
        let max_fds = if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0 { limit.rlim_cur } else { 0 };
        Some(ProcessStats {
            // Fields as numbered in proc(5): utime 14, stime 15, threads 20, starttime 22, vsize 23, rss 24.
            cpu_seconds: (field(14)? + field(15)?) as f64 / ticks,
            threads: field(20)?,
            start_time_seconds: boot_time as f64 + field(22)? as f64 / ticks,
            virtual_bytes: field(23)?,
            resident_bytes: field(24)? * page,
            open_fds,
            #[allow(clippy::unnecessary_cast)] // `rlim_t` is not `u64` on every platform
            max_fds: max_fds as u64,
        })
    }
    #[cfg(not(target_os = "linux"))]
    None
}
