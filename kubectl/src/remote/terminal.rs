//! The local terminal for `exec -it` / `attach -it`: raw mode for the session (keys go to
//! the remote process unchanged, Ctrl-C included), its size, and resize events.

use std::io::IsTerminal;
use std::os::fd::AsRawFd;

use tokio::signal::unix::{signal, Signal, SignalKind};

/// Whether stdin is a terminal (upstream falls back to no TTY, with a warning, when not).
pub fn stdin_is_terminal() -> bool {
    std::io::stdin().is_terminal()
}

/// stdin's terminal in raw mode until dropped, which restores the saved settings.
pub struct RawMode {
    fd: i32,
    saved: libc::termios,
}

impl RawMode {
    /// Puts stdin's terminal into raw mode (as `cfmakeraw`, what upstream's moby/term does).
    pub fn enable() -> std::io::Result<RawMode> {
        let fd = std::io::stdin().as_raw_fd();
        // SAFETY: termios is plain data; tcgetattr fills it or fails.
        let mut saved: libc::termios = unsafe { std::mem::zeroed() };
        // SAFETY: fd is stdin, open for the process's lifetime; the pointer is to a local.
        if unsafe { libc::tcgetattr(fd, &mut saved) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        let mut raw = saved;
        // SAFETY: raw is a valid termios copied from the terminal's.
        unsafe { libc::cfmakeraw(&mut raw) };
        // SAFETY: as above; TCSANOW applies the settings at once.
        if unsafe { libc::tcsetattr(fd, libc::TCSANOW, &raw) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(RawMode { fd, saved })
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        // SAFETY: restores the settings read in `enable` on the same descriptor.
        unsafe { libc::tcsetattr(self.fd, libc::TCSANOW, &self.saved) };
    }
}

/// The terminal's size as (width, height), from stdout or stdin, when either is a terminal.
pub fn size() -> Option<(u16, u16)> {
    [libc::STDOUT_FILENO, libc::STDIN_FILENO]
        .into_iter()
        .find_map(|fd| {
            // SAFETY: winsize is plain data; TIOCGWINSZ fills it or fails.
            let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
            // SAFETY: the pointer is to a local winsize, as TIOCGWINSZ expects.
            let ok = unsafe { libc::ioctl(fd, libc::TIOCGWINSZ, &mut ws) } == 0;
            // A terminal of size 0x0 (a pty nobody sized) is still reported, as upstream.
            ok.then_some((ws.ws_col, ws.ws_row))
        })
}

/// The terminal's new size after each `SIGWINCH`.
pub struct ResizeEvents {
    signal: Signal,
    last: Option<(u16, u16)>,
}

impl ResizeEvents {
    /// The next changed size; `None` if the signal stream ended.
    pub async fn next(&mut self) -> Option<(u16, u16)> {
        loop {
            self.signal.recv().await?;
            let now = size();
            if now.is_some() && now != self.last {
                self.last = now;
                return now;
            }
        }
    }
}

/// Resize events when `tty` is set and the signal can be watched.
pub fn resize_events(tty: bool) -> Option<ResizeEvents> {
    if !tty {
        return None;
    }
    signal(SignalKind::window_change())
        .ok()
        .map(|signal| ResizeEvents {
            signal,
            last: size(),
        })
}
