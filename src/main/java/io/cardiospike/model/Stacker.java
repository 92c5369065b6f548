package io.cardiospike.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The logistic-regression blend of the two models: {@code proba = sigmoid(intercept + sum coef_i * input_i)}, inputs
 * named in {@code stacker.json} from {@link #INPUTS}.
 */
final class Stacker {
    static final List<String> INPUT_ORDER = List.of("lgbm_margin", "cnn_logit", "artifact_c");
    static final Set<String> INPUTS = Set.copyOf(INPUT_ORDER);

    private final int[] inputs; // index into INPUT_ORDER
    private final double[] coef;
    private final double intercept;

    Stacker(Path file) throws ModelBundleException {
        JsonNode s;
        try {
            s = new ObjectMapper().readTree(file.toFile());
        } catch (IOException e) {
            throw new ModelBundleException(file + ": cannot read stacker: " + e.getMessage(), e);
        }
        List<String> names = new ArrayList<>();
        s.path("features").forEach(n -> names.add(n.asText()));
        JsonNode c = s.path("coef");
        if (names.isEmpty() || c.size() != names.size() || !s.path("intercept").isNumber()) {
            throw new ModelBundleException(file + ": needs features, coef of the same length, and intercept");
        }
        for (String n : names) {
            if (!INPUTS.contains(n)) {
                throw new ModelBundleException(file + ": unknown stacker input '" + n + "' (known: " + INPUTS + ")");
            }
        }
        inputs = names.stream().mapToInt(INPUT_ORDER::indexOf).toArray();
        coef = new double[inputs.length];
        for (int i = 0; i < coef.length; i++) {
            coef[i] = c.get(i).asDouble();
        }
        intercept = s.path("intercept").asDouble();
    }

    double proba(double lgbmMargin, double cnnLogit, boolean artifact) {
        double z = intercept;
        for (int i = 0; i < inputs.length; i++) {
            z += coef[i] * input(i, lgbmMargin, cnnLogit, artifact);
        }
        return 1 / (1 + Math.exp(-z));
    }

    private double input(int i, double lgbmMargin, double cnnLogit, boolean artifact) {
        return switch (inputs[i]) {
            case 0 -> lgbmMargin;
            case 1 -> cnnLogit;
            default -> artifact ? 1 : 0;
        };
    }

    /** Each input's term {@code coef_i * input_i} of the log-odds, in stacker.json's order, then the intercept. */
    List<Explanation.Share> shares(double lgbmMargin, double cnnLogit, boolean artifact) {
        double[] term = new double[inputs.length + 1];
        double sumAbs = Math.abs(intercept);
        for (int i = 0; i < inputs.length; i++) {
            term[i] = coef[i] * input(i, lgbmMargin, cnnLogit, artifact) + 0.0; // no -0.0 on the wire
            sumAbs += Math.abs(term[i]);
        }
        term[inputs.length] = intercept;
        List<Explanation.Share> shares = new ArrayList<>();
        for (int i = 0; i <= inputs.length; i++) {
            boolean isIntercept = i == inputs.length;
            shares.add(new Explanation.Share(isIntercept ? "intercept" : INPUT_ORDER.get(inputs[i]),
                    isIntercept ? 1 : input(i, lgbmMargin, cnnLogit, artifact), isIntercept ? intercept : coef[i],
                    term[i], sumAbs == 0 ? 0 : term[i] / sumAbs));
        }
        return shares;
    }
}
