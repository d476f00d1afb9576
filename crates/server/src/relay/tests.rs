use super::*;
use futures_util::StreamExt;
use std::sync::atomic::{AtomicUsize, Ordering};

fn limits(deadline: Instant) -> BodyLimits {
    BodyLimits {
        idle: Duration::from_secs(5),
        deadline,
        first_token: None,
        max_event: 1024,
        max_body: 1024,
    }
}

/// A body of `frames` frames of `size` bytes (endless when `None`), always ready, counting
/// the frames taken from it.
fn body(
    frames: Option<usize>,
    size: usize,
    taken: Arc<AtomicUsize>,
) -> impl http_body::Body<Data = Bytes, Error = Infallible> + Unpin {
    let chunk = Bytes::from(vec![b' '; size]);
    let stream = futures_util::stream::repeat_with(move || {
        taken.fetch_add(1, Ordering::Relaxed);
        Ok::<_, Infallible>(Frame::data(chunk.clone()))
    })
    .take(frames.unwrap_or(usize::MAX));
    http_body_util::StreamBody::new(stream)
}

#[tokio::test]
async fn a_whole_body_is_read_up_to_the_limit_and_no_further() {
    let far = Instant::now() + Duration::from_secs(30);
    let taken = Arc::new(AtomicUsize::new(0));
    let r = read_body(
        "p",
        body(Some(10), 100, taken.clone()),
        limits(far),
        250,
        false,
    )
    .await;
    assert!(
        matches!(r, Err(GatewayError::UpstreamTooLarge { limit: 250, .. })),
        "{r:?}"
    );
    assert_eq!(
        taken.load(Ordering::Relaxed),
        3,
        "refused at the frame that would pass the limit"
    );
    // Exactly at the limit is fine; error bodies are cut to it instead.
    let ok = read_body(
        "p",
        body(Some(5), 50, taken.clone()),
        limits(far),
        250,
        false,
    )
    .await;
    assert_eq!(ok.unwrap().len(), 250);
    let cut = read_body(
        "p",
        body(Some(10), 100, taken.clone()),
        limits(far),
        250,
        true,
    )
    .await;
    assert_eq!(cut.unwrap().len(), 250);
}

#[tokio::test]
async fn a_body_announced_larger_than_the_limit_is_not_read() {
    let far = Instant::now() + Duration::from_secs(30);
    let full = http_body_util::Full::new(Bytes::from(vec![b'x'; 2000]));
    let r = read_body("p", full, limits(far), 1000, false).await;
    assert!(
        matches!(r, Err(GatewayError::UpstreamTooLarge { .. })),
        "{r:?}"
    );
}

#[tokio::test]
async fn the_deadline_ends_a_body_that_never_pauses() {
    // Every frame is ready at once, so a timer around each read never fires; the deadline is
    // checked before each read.
    let taken = Arc::new(AtomicUsize::new(0));
    let r = read_body(
        "p",
        body(None, 1, taken),
        limits(Instant::now() + Duration::from_millis(50)),
        usize::MAX,
        false,
    )
    .await;
    match r {
        Err(GatewayError::UpstreamTimeout { phase, .. }) => assert!(phase.contains("total")),
        other => panic!("{other:?}"),
    }
}
