//! Turns at scheduled work (reconcile inside `serve`, digests): one replica at a
//! time, a cursor that survives the holder, a hold that runs out when the holder
//! dies. Times are passed explicitly; on every backend.

use herald::store::{Store, Turn};

use crate::helpers::backends;
use crate::store::ok;

const NOW: i64 = 1_800_000_000_000;
const HOLD: i64 = 60_000;

async fn another(name: &str, guard: &crate::helpers::Guard) -> Store {
    ok(name, "connect", Store::connect(guard.settings()).await)
}

#[tokio::test]
async fn one_replica_takes_a_turn_and_the_next_resumes_from_its_cursor() {
    for (name, a, guard) in backends().await {
        let b = another(name, &guard).await;
        let first = ok(name, "take", a.take_turn("job", NOW, HOLD).await);
        assert_eq!(
            first,
            Some(Turn { cursor: None }),
            "{name}: a name never seen is due"
        );
        assert_eq!(
            ok(name, "take", b.take_turn("job", NOW, HOLD).await),
            None,
            "{name}"
        );
        // Ended with a cursor, due a minute later: nobody before then.
        assert!(ok(
            name,
            "end",
            a.end_turn("job", Some("c1"), NOW + 60_000).await
        ));
        assert_eq!(
            ok(name, "take", b.take_turn("job", NOW + 59_999, HOLD).await),
            None
        );
        let next = ok(name, "take", b.take_turn("job", NOW + 60_000, HOLD).await);
        assert_eq!(
            next,
            Some(Turn {
                cursor: Some("c1".into())
            }),
            "{name}"
        );
        // A turn no longer held cannot be ended by its former holder.
        assert!(
            !ok(name, "end", a.end_turn("job", Some("stale"), NOW).await),
            "{name}"
        );
        let row = ok(name, "row", b.schedule("job").await).expect("stored");
        assert_eq!(row.cursor.as_deref(), Some("c1"), "{name}");
        assert_eq!(row.held_by.as_deref(), Some(b.instance()), "{name}");
        // Other names are their own schedules.
        assert!(ok(name, "take", a.take_turn("other", NOW, HOLD).await).is_some());
    }
}

#[tokio::test]
async fn a_turn_whose_holder_died_is_taken_once_its_hold_runs_out() {
    for (name, a, guard) in backends().await {
        let b = another(name, &guard).await;
        assert!(ok(name, "take", a.take_turn("job", NOW, HOLD).await).is_some());
        // `a` dies holding it.
        drop(a);
        assert_eq!(
            ok(name, "take", b.take_turn("job", NOW + HOLD - 1, HOLD).await),
            None
        );
        let taken = ok(name, "take", b.take_turn("job", NOW + HOLD, HOLD).await);
        assert_eq!(taken, Some(Turn { cursor: None }), "{name}");
    }
}

#[tokio::test]
async fn replicas_asking_at_once_get_one_turn() {
    for (name, a, guard) in backends().await {
        let replicas = [a, another(name, &guard).await, another(name, &guard).await];
        for round in 0..5_i64 {
            let at = NOW + round * 1_000;
            let [x, y, z] = &replicas;
            let (x, y, z) = tokio::join!(
                x.take_turn("job", at, HOLD),
                y.take_turn("job", at, HOLD),
                z.take_turn("job", at, HOLD),
            );
            let taken = [x, y, z].map(|taken| ok(name, "take", taken));
            let winners: Vec<usize> = (0..3).filter(|&i| taken[i].is_some()).collect();
            assert_eq!(winners.len(), 1, "{name}: round {round}: {taken:?}");
            let winner = &replicas[winners[0]];
            assert!(ok(name, "end", winner.end_turn("job", None, at + 1).await));
        }
    }
}
