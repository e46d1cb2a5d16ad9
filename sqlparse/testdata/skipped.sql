-- dialect: snowflake
use warehouse compute_wh;
show tables;
alter session set timezone = 'UTC';
select 1
