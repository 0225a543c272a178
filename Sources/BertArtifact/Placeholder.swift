// BertArtifact
