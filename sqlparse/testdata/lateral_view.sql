-- dialect: databricks
select o.id, item.sku, pos from sales.orders o
lateral view posexplode(o.items) t as pos, item
