-- dialect: databricks
-- schema: main.sales.q: year, quarter, sales, region
select * from (select year, quarter, sales from main.sales.q)
pivot (sum(sales) as s, avg(sales) as a for quarter in (1 as q1, 2 as q2));
select * from main.sales.q pivot (sum(sales) for quarter in (1 as q1, 2 as q2)) where year > 2020;
