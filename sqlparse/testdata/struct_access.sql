-- dialect: databricks
select o.address.city as city, o.items[0] as first_item, o.attrs['k'] as k from sales.orders o
