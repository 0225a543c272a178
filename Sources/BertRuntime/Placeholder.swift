// BertRuntime
