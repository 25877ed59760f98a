//! The shutdown handle in a process of its own: a real SIGTERM sets the flag, wakes a
//! blocked waiter, an async waiter on any executor, and makes the descriptor readable.
//! One test function: signals are process-wide, so the steps must not interleave.

use std::future::Future;
use std::os::fd::AsFd;
use std::time::Duration;

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::{Signal, raise};

#[test]
fn sigterm_reaches_every_kind_of_waiter() {
    let shutdown = daemon_runtime::shutdown();
    assert!(!shutdown.requested());
    assert_eq!(shutdown.signal(), None);
    assert!(!shutdown.wait_timeout(Duration::from_millis(10)));

    // An async waiter on a current-thread tokio runtime, parked before the signal.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let waiter = shutdown.clone();
    let (polled_tx, polled) = std::sync::mpsc::channel();
    let async_done = std::thread::spawn(move || {
        runtime.block_on(async move {
            let mut future = std::pin::pin!(waiter.wait_async());
            // Poll once so the waker is registered before the signal arrives.
            let first = std::future::poll_fn(|cx| {
                std::task::Poll::Ready(future.as_mut().poll(cx).is_ready())
            })
            .await;
            assert!(!first, "ready before any signal");
            polled_tx.send(()).unwrap();
            tokio::time::timeout(Duration::from_secs(30), future)
                .await
                .is_ok()
        })
    });
    polled.recv().unwrap();
    // A blocked waiter on another thread.
    let blocked = shutdown.clone();
    let blocking_done = std::thread::spawn(move || {
        blocked.wait();
        blocked.signal()
    });

    // With a handle taken, SIGTERM only requests shutdown: this process survives it.
    raise(Signal::SIGTERM).unwrap();

    assert_eq!(blocking_done.join().unwrap(), Some(Signal::SIGTERM));
    assert!(async_done.join().unwrap(), "the future did not complete");
    assert!(shutdown.requested());
    assert!(shutdown.wait_timeout(Duration::ZERO));
    let mut fds = [PollFd::new(shutdown.as_fd(), PollFlags::POLLIN)];
    assert_eq!(poll(&mut fds, PollTimeout::ZERO).unwrap(), 1, "fd readable");
    // A future made after the fact is ready at once.
    let late = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            tokio::time::timeout(Duration::from_secs(5), shutdown.wait_async()).await
        });
    assert!(late.is_ok());
}
