"""Community Digital Technology Teams (Tổ CNSCĐ) and their memberships."""
