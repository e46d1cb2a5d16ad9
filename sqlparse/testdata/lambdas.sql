-- dialect: databricks
select id, transform(items, x -> x.price * 2) as doubled, filter(tags, t -> t <> '') as tags from sales.orders
