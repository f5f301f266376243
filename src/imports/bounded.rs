//! An input with a budget of bytes for what is being read: parsers read a whole token (an XML
//! text, a JSON string) into memory before it can be looked at, so the input itself stops one
//! that is too long, whatever the file says.

use std::cell::Cell;
use std::io::BufRead;
use std::rc::Rc;

/// What the token being read may still take; the reader's owner sets it before each token.
#[derive(Clone)]
pub struct Budget {
    left: Rc<Cell<u64>>,
    read: Rc<Cell<u64>>,
}

impl Budget {
    /// Allows `bytes` more from now on.
    pub fn set(&self, bytes: u64) {
        self.left.set(bytes);
    }

    /// No limit: for what is skipped without being kept.
    pub fn lift(&self) {
        self.left.set(u64::MAX);
    }

    /// The bytes read so far.
    pub fn read(&self) -> u64 {
        self.read.get()
    }
}

/// The input, failing with `too_long` when a read would go past the budget.
pub struct Bounded<R> {
    inner: R,
    left: Rc<Cell<u64>>,
    read: Rc<Cell<u64>>,
    too_long: String,
}

impl<R> Bounded<R> {
    /// The input with `bytes` to start with, and the budget that moves it on.
    pub fn new(inner: R, bytes: u64, too_long: String) -> (Self, Budget) {
        let (left, read) = (Rc::new(Cell::new(bytes)), Rc::new(Cell::new(0)));
        (Self { inner, left: left.clone(), read: read.clone(), too_long }, Budget { left, read })
    }
}

impl<R: BufRead> std::io::Read for Bounded<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(out.len());
        out[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Bounded<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        let left = self.left.get();
        if left == 0 {
            return Err(std::io::Error::other(self.too_long.clone()));
        }
        let available = self.inner.fill_buf()?;
        Ok(&available[..available.len().min(usize::try_from(left).unwrap_or(usize::MAX))])
    }

    fn consume(&mut self, amount: usize) {
        self.left.set(self.left.get().saturating_sub(amount as u64));
        self.read.set(self.read.get() + amount as u64);
        self.inner.consume(amount);
    }
}
