"""Identity columns as a source system holds them (name, date of birth, sex, ID, phone,
address), with the noise of config.KINDS applied and logged."""
