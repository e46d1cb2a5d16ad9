-- dialect: snowflake
-- Named and numbered bind variables stand for values: no column lineage.
select o.id, o.amount
from shop.orders o
where o.status = :status and o.region in (:r1, :r2) and o.created_at > :1
limit :n;

-- A bind variable after AS names the column only at run time: the column
-- is left out, with a warning, and the rest keeps its lineage.
select o.id, parse_json(o.payload) as :userInfo, o.amount -- ERROR "bind variable :userInfo"
from shop.orders o;

-- In an INSERT the target column comes from the position, not the alias.
insert into shop.order_facts (id, info)
select o.id, parse_json(o.payload) as :userInfo
from shop.orders o;
