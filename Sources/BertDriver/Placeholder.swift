// BertDriver
