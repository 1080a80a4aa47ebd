CREATE TABLE seen (source text, id text, member_id text, PRIMARY KEY (source, id));
