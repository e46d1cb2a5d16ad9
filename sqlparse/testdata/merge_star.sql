-- dialect: databricks
-- schema: main.risk.src: id, score, ds
merge into main.risk.tgt t using main.risk.src s on t.id = s.id
when matched then update set *
when not matched then insert *
