//! Streams over a Finder's results: [`Pages`] (one [`Page`] per item) and [`Rows`] (one
//! [`Interaction`] per item). Both follow the cursors themselves, one page query at a
//! time, and end after the last page or after the first error.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use futures_core::{FusedStream, Stream};

use crate::error::Result;
use crate::finder::{Finder, Page};
use crate::model::Interaction;

type PageFuture = Pin<Box<dyn Future<Output = Result<Page>> + Send>>;

enum State {
    /// The first page: the Finder as built (its own [`Finder::after`] included).
    Start,
    /// The page after this cursor.
    After(String),
    /// A page query in flight.
    Fetching(PageFuture),
    /// The last page or an error was yielded.
    Done,
}

/// A [`Stream`] of a Finder's pages, from [`Finder::pages`].
///
/// Each item is one [`Page`] (the first one even when it is empty); the stream asks for
/// the next page only when polled again, and ends after the page without a
/// [`next_cursor`](Page::next_cursor). An error is yielded once, then the stream ends.
/// Every page is one read with the Finder's rules (permission check, cache, audit of
/// reads); nothing is fetched ahead.
///
/// # Examples
///
/// ```
/// use futures_util::StreamExt;
/// # use chrono::{Duration, Utc};
/// # use interaction_core::{NewInteraction, Role, StoreOptions};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> interaction_core::Result<()> {
/// # let store = StoreOptions::new("sqlite::memory:").migrate(true).connect().await?;
/// # let site = store.create_site("Head office", None).await?;
/// # let alice = store.create_user("alice", "alice@example.com", "correct horse battery").await?;
/// # store.grant_role(alice.id, site.id, Role::Editor).await?;
/// # let session = store.session_for_user(alice.id, site.id).await?;
/// # let t = Utc::now();
/// # for n in 0..5 {
/// #     session.create_interaction(NewInteraction::new(format!("Call {n}"), "call", "Alice", t, t, "UTC")).await?;
/// # }
/// let mut pages = session.finder().limit(2).pages();
/// let mut sizes = Vec::new();
/// while let Some(page) = pages.next().await {
///     sizes.push(page?.items.len());
/// }
/// assert_eq!(sizes, [2, 2, 1]);
/// # Ok(())
/// # }
/// ```
#[must_use = "a stream does nothing until polled"]
pub struct Pages {
    finder: Finder,
    state: State,
}

impl Pages {
    pub(crate) fn new(finder: Finder) -> Self {
        Pages {
            finder,
            state: State::Start,
        }
    }
}

impl fmt::Debug for Pages {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.state {
            State::Start => "start",
            State::After(_) => "after",
            State::Fetching(_) => "fetching",
            State::Done => "done",
        };
        f.debug_struct("Pages")
            .field("finder", &self.finder)
            .field("state", &state)
            .finish()
    }
}

impl Stream for Pages {
    type Item = Result<Page>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Page>>> {
        let this = self.get_mut();
        loop {
            match std::mem::replace(&mut this.state, State::Done) {
                State::Done => return Poll::Ready(None),
                State::Start => {
                    this.state = State::Fetching(Box::pin(this.finder.clone().fetch()));
                }
                State::After(cursor) => {
                    let next = this.finder.clone().after(cursor);
                    this.state = State::Fetching(Box::pin(next.fetch()));
                }
                State::Fetching(mut fut) => {
                    let polled = fut.as_mut().poll(cx);
                    let Poll::Ready(result) = polled else {
                        this.state = State::Fetching(fut);
                        return Poll::Pending;
                    };
                    if let Ok(Page {
                        next_cursor: Some(c),
                        ..
                    }) = &result
                    {
                        this.state = State::After(c.clone());
                    }
                    return Poll::Ready(Some(result));
                }
            }
        }
    }
}

impl FusedStream for Pages {
    fn is_terminated(&self) -> bool {
        matches!(self.state, State::Done)
    }
}

/// A [`Stream`] of a Finder's interactions across all its pages, from
/// [`Finder::iterate`] (the Node package's `finder.iterate()`, Python's `for i in finder`).
///
/// Pages are fetched one at a time as the items are consumed (the Finder's
/// [`limit`](Finder::limit) is the page size). An error is yielded once, then the stream
/// ends.
///
/// # Examples
///
/// ```
/// use futures_util::StreamExt;
/// # use chrono::{Duration, Utc};
/// # use interaction_core::{NewInteraction, Role, Sort, StoreOptions};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> interaction_core::Result<()> {
/// # let store = StoreOptions::new("sqlite::memory:").migrate(true).connect().await?;
/// # let site = store.create_site("Head office", None).await?;
/// # let alice = store.create_user("alice", "alice@example.com", "correct horse battery").await?;
/// # store.grant_role(alice.id, site.id, Role::Editor).await?;
/// # let session = store.session_for_user(alice.id, site.id).await?;
/// # let t = Utc::now();
/// # for n in 0..5 {
/// #     let start = t + Duration::hours(n);
/// #     session.create_interaction(NewInteraction::new(format!("Call {n}"), "call", "Alice", start, start, "UTC")).await?;
/// # }
/// let mut rows = session.finder().sort(Sort::StartAsc).limit(2).iterate();
/// let mut titles = Vec::new();
/// while let Some(i) = rows.next().await {
///     titles.push(i?.title);
/// }
/// assert_eq!(titles, ["Call 0", "Call 1", "Call 2", "Call 3", "Call 4"]);
/// # Ok(())
/// # }
/// ```
#[must_use = "a stream does nothing until polled"]
#[derive(Debug)]
pub struct Rows {
    pages: Pages,
    buffered: std::vec::IntoIter<Interaction>,
}

impl Rows {
    pub(crate) fn new(finder: Finder) -> Self {
        Rows {
            pages: Pages::new(finder),
            buffered: Vec::new().into_iter(),
        }
    }
}

impl Stream for Rows {
    type Item = Result<Interaction>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Interaction>>> {
        let this = self.get_mut();
        loop {
            if let Some(i) = this.buffered.next() {
                return Poll::Ready(Some(Ok(i)));
            }
            match ready!(Pin::new(&mut this.pages).poll_next(cx)) {
                Some(Ok(page)) => this.buffered = page.items.into_iter(),
                Some(Err(e)) => return Poll::Ready(Some(Err(e))),
                None => return Poll::Ready(None),
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.buffered.len();
        if self.pages.is_terminated() {
            (n, Some(n))
        } else {
            (n, None)
        }
    }
}

impl FusedStream for Rows {
    fn is_terminated(&self) -> bool {
        self.buffered.len() == 0 && self.pages.is_terminated()
    }
}

impl Finder {
    /// A [`Stream`] of this search's pages, following the cursors until the last page
    /// (see [`Pages`]). Starts at the Finder's own [`after`](Self::after) cursor, if any.
    pub fn pages(self) -> Pages {
        Pages::new(self)
    }

    /// A [`Stream`] of every interaction this search matches, page after page (see
    /// [`Rows`]). The Finder's [`limit`](Self::limit) is the page size.
    pub fn iterate(self) -> Rows {
        Rows::new(self)
    }
}
