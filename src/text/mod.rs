//! Text processing: Keras Tokenizer, pad_sequences, n-gram vectorizers, cleaning.
