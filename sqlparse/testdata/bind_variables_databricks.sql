-- dialect: databricks
-- Databricks named parameter markers stand for values.
select o.id, o.amount * :rate as converted
from shop.orders o
where o.status = :status;
