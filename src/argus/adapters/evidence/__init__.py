"""Evidence adapters: the keyring, the bundle signer, and the filesystem and S3 blob stores."""
