-- dialect: snowflake
-- schema: RAW.S.QUARTERLY: EMPID, QUARTER, AMOUNT, REGION
select * from raw.s.monthly_sales pivot (sum(amount) for month in ('JAN', 'FEB')) as p;
select empid, jan, feb from raw.s.monthly_sales pivot (sum(amount) for month in ('JAN', 'FEB')) as p (empid, jan, feb);
select * from raw.s.quarterly pivot (sum(amount) for quarter in ('Q1' as q1, 'Q2' as q2)) p;
