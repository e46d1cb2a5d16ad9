-- dialect: snowflake
select * from raw.s.wide unpivot (sales for month in (jan, feb, mar))
