//! One definition, two flavours: [`dual!`] writes each method once and generates it on
//! the blocking class (GIL released, `block_on`) and on the asyncio class (returns a
//! coroutine, [`crate::asyncio::Call`]), so the two APIs cannot drift apart.

/// Generates `#[pymethods]` for a blocking class and its asyncio twin.
///
/// ```text
/// dual! {
///     Sync / Async, |py, handle|;
///     sync { ..methods only on Sync.. }
///     async { ..methods only on Async.. }
///     /// docs
///     #[pyo3(signature = (x))]
///     fn name(x: &Bound<'_, PyAny>) -> Ret { ..convert args (py available).. } =>
///         async move { handle.call(x).await.map(Ret::from) };
/// }
/// ```
/// `handle` is bound to `self.handle()?` (the core object, after the closed check);
/// the future must be `Send + 'static` and yield `interaction_core::Result<Ret>`.
macro_rules! dual {
    (
        $sync:ident / $asyn:ident, |$py:ident, $h:ident|;
        sync { $($sync_extra:tt)* }
        async { $($async_extra:tt)* }
        $(
            $(#[$meta:meta])*
            fn $name:ident( $($args:tt)* ) -> $ret:ty { $($pre:tt)* } => $fut:expr;
        )*
    ) => {
        #[pymethods]
        impl $sync {
            $($sync_extra)*
            $(
                $(#[$meta])*
                fn $name(&self, $py: Python<'_>, $($args)*) -> PyResult<$ret> {
                    let $h = self.handle()?;
                    $($pre)*
                    $crate::runtime::block($py, $fut)
                }
            )*
        }

        #[pymethods]
        impl $asyn {
            $($async_extra)*
            $(
                $(#[$meta])*
                fn $name(&self, $py: Python<'_>, $($args)*) -> PyResult<$crate::asyncio::Call> {
                    let _ = $py;
                    let $h = self.handle()?;
                    let driver = $crate::asyncio::Driver::for_store(
                        $crate::runtime::OfStore::of_store(&$h),
                    );
                    $($pre)*
                    $crate::runtime::awaitable::<$ret, _>(
                        concat!(stringify!($asyn), ".", stringify!($name)),
                        driver,
                        $fut,
                    )
                }
            )*
        }
    };
}
