"""The shop adapter, the sync engine and the bundled demo shop. Built in issue #3."""
