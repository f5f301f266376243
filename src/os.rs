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

/// Makes glibc serve every allocation of 1 MiB or more with its own `mmap`, so that freeing it
/// returns the memory to the system at once. glibc's default threshold rises to the size of the
/// largest block freed so far: after the first password hash (a 19 MiB buffer), every later one
/// came from the heap arenas of the threads hashing, and stayed resident after the load.
pub fn return_large_allocations() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallopt changes allocator parameters; it is safe to call at any time.
        if unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20) } == 0 {
            tracing::warn!("cannot set the allocator's mmap threshold");
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
