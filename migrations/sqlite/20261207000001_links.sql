-- Links between the objects of one case: a payment intent and its charges, a
-- checkout session, an invoice and its subscription, the shop's order
-- (`order:<id>`) and the customer (`customer:<id>`). Each event stores an edge,
-- both ways, from its own object to every object it names, in the transaction
-- that stores the event; an event that names only a charge (a dispute, an early
-- fraud warning) reaches its order by walking them. A pair is stored once, so a
-- repeated event adds nothing. Without rowid: the key is the row.
CREATE TABLE links (
    source TEXT NOT NULL,
    a TEXT NOT NULL,
    b TEXT NOT NULL,
    PRIMARY KEY (source, a, b)
) WITHOUT ROWID;
