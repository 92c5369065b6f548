package io.cardiospike.ops;

import io.cardiospike.model.ModelManifest;

/** A model bundle where the cluster reads it ({@code s3://cardiospike/models/<model_version>} or a URI), checked. */
public record ClusterBundle(String uri, ModelManifest manifest) {}
