//! `Finder` / `AsyncFinder`: immutable, chainable search builders (every builder method
//! returns a new Finder), and iterators that walk every page.

use std::collections::VecDeque;
use std::sync::Arc;

use interaction_core as core;
use pyo3::exceptions::PyStopAsyncIteration;
use pyo3::prelude::*;

use crate::asyncio::{Call, Driver};
use crate::convert;
use crate::errors::{to_py_err, unavailable};
use crate::runtime::{awaitable, awaitable_py, block, InProcess};
use crate::values::{Interaction, Page};

/// The builder state shared by both flavours: the core Finder plus the store, to refuse
/// calls on a closed store (or one opened before a fork) up front.
#[derive(Clone)]
pub(crate) struct State(InProcess<(core::Finder, core::InteractionStore)>);

impl State {
    fn handle(&self) -> PyResult<core::Finder> {
        let (finder, store) = self.0.get()?;
        if store.is_closed() {
            return Err(unavailable("the store is closed"));
        }
        Ok(finder.clone())
    }

    /// How this Finder's asyncio calls are driven (see `asyncio::Driver`).
    fn driver(&self) -> Driver {
        Driver::for_store(&self.0.peek().1)
    }

    fn with(&self, f: impl FnOnce(core::Finder) -> core::Finder) -> Self {
        State(
            self.0
                .map(|(finder, store)| (f(finder.clone()), store.clone())),
        )
    }
}

/// Generates a Finder class's `#[pymethods]`: the builder methods (identical in both
/// flavours) plus the flavour's own I/O methods.
macro_rules! finder_class {
    ($cls:ident { $($io:tt)* }) => {
        #[pymethods]
        impl $cls {
            /// Free text over title, description and notes (web-search syntax:
            /// `"exact phrase"`, `or`, `-excluded`).
            fn text(&self, query: String) -> Self {
                Self { state: self.state.with(|f| f.text(query)) }
            }

            /// Title contains `s`, case-insensitively.
            fn title_contains(&self, s: String) -> Self {
                Self { state: self.state.with(|f| f.title_contains(s)) }
            }

            /// Type is one of `types` (a list of str).
            fn types(&self, types: Vec<String>) -> Self {
                Self { state: self.state.with(|f| f.types(types)) }
            }

            /// Lead contains `s`, case-insensitively.
            fn lead_contains(&self, s: String) -> Self {
                Self { state: self.state.with(|f| f.lead_contains(s)) }
            }

            /// Interactions overlapping (`mode="overlap"`, the default) or contained in
            /// (`mode="contained"`) `[start, end]`; aware datetimes.
            #[pyo3(signature = (start, end, mode=None), text_signature = "($self, start, end, mode='overlap')")]
            fn date_range(
                &self,
                start: &Bound<'_, PyAny>,
                end: &Bound<'_, PyAny>,
                mode: Option<&Bound<'_, PyAny>>,
            ) -> PyResult<Self> {
                let from = convert::instant("date_range", start)?;
                let to = convert::instant("date_range", end)?;
                let mode = match mode {
                    Some(m) if !m.is_none() => convert::range_mode(m)?,
                    _ => core::RangeMode::Overlap,
                };
                Ok(Self { state: self.state.with(|f| f.date_range(from, to, mode)) })
            }

            /// Created by `user_id`.
            fn created_by(&self, user_id: &Bound<'_, PyAny>) -> PyResult<Self> {
                let id = convert::int("created_by", user_id)?;
                Ok(Self { state: self.state.with(|f| f.created_by(id)) })
            }

            /// Include soft-deleted interactions (admin only).
            #[pyo3(signature = (yes=true))]
            fn include_deleted(&self, yes: bool) -> Self {
                Self { state: self.state.with(|f| f.include_deleted(yes)) }
            }

            /// Also return archived interactions (read-only, with `archived_at` set), in
            /// the same pages and order as live ones.
            #[pyo3(signature = (yes=true))]
            fn include_archived(&self, yes: bool) -> Self {
                Self { state: self.state.with(|f| f.include_archived(yes)) }
            }

            /// Return archived interactions only.
            #[pyo3(signature = (yes=true))]
            fn archived_only(&self, yes: bool) -> Self {
                Self { state: self.state.with(|f| f.archived_only(yes)) }
            }

            /// Return every item masked as the `interactions_masked` view shows it (the
            /// core's rule, as `Interaction.masked()`): description and notes hidden, lead
            /// reduced to initials.
            #[pyo3(signature = (yes=true))]
            fn masked(&self, yes: bool) -> Self {
                Self { state: self.state.with(|f| f.masked(yes)) }
            }

            /// Sort order: `"start_desc"` (default), `"start_asc"`, `"created_desc"` or
            /// `"relevance"` (needs `text()`).
            fn sort(&self, sort: &Bound<'_, PyAny>) -> PyResult<Self> {
                let sort = convert::sort(sort)?;
                Ok(Self { state: self.state.with(|f| f.sort(sort)) })
            }

            /// Page size, 1-500; default 50.
            fn limit(&self, limit: &Bound<'_, PyAny>) -> PyResult<Self> {
                let n = convert::limit("limit", limit)?;
                Ok(Self { state: self.state.with(|f| f.limit(n)) })
            }

            /// Continue after the page that returned `cursor`.
            fn after(&self, cursor: String) -> Self {
                Self { state: self.state.with(|f| f.after(cursor)) }
            }

            fn __repr__(&self) -> String {
                format!("<{} {:?}>", stringify!($cls), self.state.0.peek().0)
            }

            $($io)*
        }
    };
}

/// A search over one site's interactions (blocking API). Build it with
/// `SiteSession.finder()`, chain filters, then `fetch()`, `count()` or `iter()`.
#[pyclass(frozen, module = "interaction_store")]
pub struct Finder {
    state: State,
}

/// A search over one site's interactions (asyncio API).
#[pyclass(frozen, module = "interaction_store")]
pub struct AsyncFinder {
    state: State,
}

impl Finder {
    pub(crate) fn new(parts: InProcess<(core::Finder, core::InteractionStore)>) -> Self {
        Finder {
            state: State(parts),
        }
    }
}

impl AsyncFinder {
    pub(crate) fn new(parts: InProcess<(core::Finder, core::InteractionStore)>) -> Self {
        AsyncFinder {
            state: State(parts),
        }
    }
}

finder_class!(Finder {
    /// Runs the query and returns one page.
    fn fetch(&self, py: Python<'_>) -> PyResult<Page> {
        let f = self.state.handle()?;
        block(py, async move { f.fetch().await.map(Page::from) })
    }

    /// Counts every match of the filters (ignores sort, limit and cursor).
    fn count(&self, py: Python<'_>) -> PyResult<u64> {
        let f = self.state.handle()?;
        block(py, f.count())
    }

    /// The database's plan for the page query.
    fn explain(&self, py: Python<'_>) -> PyResult<String> {
        let f = self.state.handle()?;
        block(py, f.explain())
    }

    /// Iterates over every match, fetching page after page (`limit` per page).
    fn iter(&self) -> FinderIter {
        FinderIter {
            walk: Walk::new(self.state.clone()),
        }
    }

    /// `for i in finder:` is `for i in finder.iter():`.
    fn __iter__(&self) -> FinderIter {
        self.iter()
    }
});

finder_class!(AsyncFinder {
    /// Runs the query; a coroutine of one page.
    fn fetch(&self) -> PyResult<Call> {
        let f = self.state.handle()?;
        let driver = self.state.driver();
        awaitable("AsyncFinder.fetch", driver, async move { f.fetch().await.map(Page::from) })
    }

    /// Counts every match of the filters (ignores sort, limit and cursor).
    fn count(&self) -> PyResult<Call> {
        let f = self.state.handle()?;
        awaitable("AsyncFinder.count", self.state.driver(), f.count())
    }

    /// The database's plan for the page query.
    fn explain(&self) -> PyResult<Call> {
        let f = self.state.handle()?;
        awaitable("AsyncFinder.explain", self.state.driver(), f.explain())
    }

    /// Async-iterates over every match, fetching page after page (`limit` per page).
    fn iter(&self) -> AsyncFinderIter {
        AsyncFinderIter {
            walk: Arc::new(tokio::sync::Mutex::new(Walk::new(self.state.clone()))),
            driver: self.state.driver(),
        }
    }

    /// `async for i in finder:` is `async for i in finder.iter():`.
    fn __aiter__(&self) -> AsyncFinderIter {
        self.iter()
    }
});

/// The position of a walk over all pages.
struct Walk {
    state: State,
    buffer: VecDeque<core::Interaction>,
    cursor: Option<String>,
    done: bool,
}

impl Walk {
    fn new(state: State) -> Self {
        Walk {
            state,
            buffer: VecDeque::new(),
            cursor: None,
            done: false,
        }
    }

    /// The next page's query, or `None` when the buffer still has items or the walk is
    /// over.
    fn next_query(&self) -> PyResult<Option<core::Finder>> {
        if !self.buffer.is_empty() || self.done {
            return Ok(None);
        }
        let f = self.state.handle()?;
        Ok(Some(match &self.cursor {
            Some(c) => f.after(c.clone()),
            None => f,
        }))
    }

    fn push_page(&mut self, page: core::Page) {
        self.buffer.extend(page.items);
        self.done = page.next_cursor.is_none();
        self.cursor = page.next_cursor;
    }

    fn pop(&mut self) -> Option<Interaction> {
        self.buffer.pop_front().map(Interaction::from)
    }
}

/// Iterator over every match of a `Finder` (blocking).
#[pyclass(module = "interaction_store")]
pub struct FinderIter {
    walk: Walk,
}

#[pymethods]
impl FinderIter {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&mut self, py: Python<'_>) -> PyResult<Option<Interaction>> {
        if let Some(f) = self.walk.next_query()? {
            let page = block(py, f.fetch())?;
            self.walk.push_page(page);
        }
        Ok(self.walk.pop())
    }
}

/// Async iterator over every match of an `AsyncFinder`.
#[pyclass(frozen, module = "interaction_store")]
pub struct AsyncFinderIter {
    walk: Arc<tokio::sync::Mutex<Walk>>,
    driver: Driver,
}

#[pymethods]
impl AsyncFinderIter {
    fn __aiter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __anext__(&self) -> PyResult<Call> {
        let walk = self.walk.clone();
        awaitable_py("AsyncFinderIter.__anext__", self.driver, async move {
            let mut w = walk.lock().await;
            if let Some(f) = w.next_query()? {
                match f.fetch().await {
                    Ok(page) => w.push_page(page),
                    Err(e) => return Err(Python::attach(|py| to_py_err(py, e))),
                }
            }
            w.pop()
                .ok_or_else(|| PyStopAsyncIteration::new_err("no more interactions"))
        })
    }
}
