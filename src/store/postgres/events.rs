//! Events as an operator lists and inspects them, on PostgreSQL.

use sqlx::{Postgres, QueryBuilder};

use super::PostgresStore;
use crate::store::error::Result;
use crate::store::events::{
    assemble, like_pattern, EventAttemptRow, EventCursor, EventDetail, EventDetailRow, EventFilter,
    EventJobRow, EventListing, EventListingRow, EVENT_ATTEMPTS_SELECT, EVENT_DETAIL_SELECT,
    EVENT_JOBS_SELECT, EVENT_LIST_ORDER, EVENT_LIST_SELECT,
};

impl PostgresStore {
    pub async fn events(&self, filter: &EventFilter) -> Result<Vec<EventListing>> {
        let mut query = QueryBuilder::<Postgres>::new(EVENT_LIST_SELECT);
        if let Some(kind) = &filter.kind {
            // LIKE is case-sensitive here, as rule patterns are.
            query
                .push(" AND e.kind LIKE ")
                .push_bind(like_pattern(kind));
        }
        if let Some(order_id) = &filter.order_id {
            query.push(" AND e.order_id = ").push_bind(order_id.clone());
        }
        if let Some(status) = filter.status {
            query.push(status.sql());
        }
        if let Some(since) = filter.since_ms {
            query.push(" AND e.received_at >= ").push_bind(since);
        }
        if let Some(until) = filter.until_ms {
            query.push(" AND e.received_at < ").push_bind(until);
        }
        if let Some(after) = filter.after {
            let [at_most, before, lower_pk] = EventCursor::SQL;
            query.push(at_most).push_bind(after.received_at_ms);
            query.push(before).push_bind(after.received_at_ms);
            query.push(lower_pk).push_bind(after.pk).push(")");
        }
        query.push(EVENT_LIST_ORDER).push_bind(filter.sql_limit());
        let rows = query
            .build_query_as::<EventListingRow>()
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(EventListing::from).collect())
    }

    pub async fn event_detail(&self, source: &str, event_id: &str) -> Result<Option<EventDetail>> {
        // One snapshot, so the jobs and attempts are those of one moment: under
        // READ COMMITTED each statement would see its own.
        let mut tx = self.pool.begin().await?;
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .execute(&mut *tx)
            .await?;
        let Some(event) = sqlx::query_as::<_, EventDetailRow>(&format!(
            "{EVENT_DETAIL_SELECT} WHERE source = $1 AND event_id = $2"
        ))
        .bind(source)
        .bind(event_id)
        .fetch_optional(&mut *tx)
        .await?
        else {
            return Ok(None);
        };
        let jobs = sqlx::query_as::<_, EventJobRow>(&format!(
            "{EVENT_JOBS_SELECT} WHERE event_pk = $1 ORDER BY id"
        ))
        .bind(event.pk())
        .fetch_all(&mut *tx)
        .await?;
        let attempts = sqlx::query_as::<_, EventAttemptRow>(&format!(
            "{EVENT_ATTEMPTS_SELECT} WHERE j.event_pk = $1 ORDER BY a.id"
        ))
        .bind(event.pk())
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        assemble(event, jobs, attempts).map(Some)
    }
}
