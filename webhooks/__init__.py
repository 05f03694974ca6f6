"""HTTP routes that receive Zalo and PBX webhooks: raw body, signature, schema, then the hub's domain."""
