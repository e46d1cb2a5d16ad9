-- dialect: snowflake
-- schema: RAW.S.WIDE_KNOWN: EMPID, JAN, FEB, MAR
select * from raw.s.wide unpivot (sales for month in (jan, feb, mar));
select empid, month, sales from raw.s.wide_known unpivot (sales for month in (jan, feb, mar));
