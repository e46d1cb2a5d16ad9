-- dialect: snowflake
alter table marts.loans_new rename to marts.loans;
alter table marts.a swap with marts.b
