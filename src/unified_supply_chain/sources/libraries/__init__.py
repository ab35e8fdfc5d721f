"""Software dependencies: manifests and lockfiles."""
