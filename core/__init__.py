"""The ground floor: config, errors, images, layers, the backbone and what every room above shares."""
