-- dialect: ansi
-- Standard SQL has no lateral column aliases, and engines that have them
-- prefer a FROM table's column of the same name. Without a schema for
-- person.person, user_name is read as its column; with one that lacks the
-- name (staff), it is the earlier alias.
-- schema: hr.staff: first_name, last_name
insert into tmp.contact select firstname as user_name, user_name || lastname as id from person.person;
insert into tmp.contact select first_name as user_name, user_name || last_name as id from hr.staff;
insert into tmp.contact select first_name as user_name, user_name || last_name as id from hr.staff s join person.person p on s.first_name = p.firstname;
