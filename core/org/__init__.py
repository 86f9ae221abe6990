"""The organisation tree: province > [district] > commune > hamlet | enterprise."""
