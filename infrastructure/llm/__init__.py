"""Language-model adapters: one module per provider, each importing its SDK only when first used."""
