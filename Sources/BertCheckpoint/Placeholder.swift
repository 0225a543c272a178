// BertCheckpoint
