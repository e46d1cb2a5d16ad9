-- dialect: snowflake
-- default: ANALYTICS.MARTS
select a.x, b.y from orders a join staging.payments b on a.id = b.id join other_db.s.t c on c.id = a.id
