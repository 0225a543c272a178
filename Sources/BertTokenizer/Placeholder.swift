// BertTokenizer
