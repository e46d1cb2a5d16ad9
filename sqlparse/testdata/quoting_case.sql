-- dialect: snowflake
select "MixedCase"."Amount", t.sys$flag, "lower" from "Raw"."Loans"."MixedCase", raw.loans.t
