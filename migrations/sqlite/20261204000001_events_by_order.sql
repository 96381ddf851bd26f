-- `herald events --order ID` answers "what happened to order A17?" from this index
-- instead of reading every event. An order has a handful of events, so the rows
-- found are sorted at once; `received_at` is in the key so they come newest first
-- without a sort. One more index entry per ingested event is the price: that
-- question is what an operator asks most. The type and status filters need no
-- index of their own (see src/store/events.rs).
CREATE INDEX events_order ON events (order_id, received_at);
