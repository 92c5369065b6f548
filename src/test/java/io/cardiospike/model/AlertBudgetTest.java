package io.cardiospike.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class AlertBudgetTest {

    @Test
    void flagsAtMostMaxFlaggedInAnyWindowAndRefusesOnlyWhenFull() {
        Random random = new Random(5);
        double[] proba = new double[600];
        Arrays.setAll(proba, i -> random.nextDouble());
        int[] y = new AlertBudget(6, 50).decide(proba, 0.6);
        for (int i = 0; i < y.length; i++) {
            int inWindow = 0;
            for (int j = Math.max(0, i - 49); j <= i; j++) {
                inWindow += y[j];
            }
            assertThat(inWindow).as("flags in the window ending at beat %d", i).isLessThanOrEqualTo(6);
            if (y[i] == 1) {
                assertThat(proba[i]).isGreaterThanOrEqualTo(0.6);
            } else if (proba[i] >= 0.6) {
                assertThat(inWindow).as("beat %d refused with room left", i).isEqualTo(6);
            }
        }
        assertThat(Arrays.stream(y).sum()).isLessThan((int) Arrays.stream(proba).filter(p -> p >= 0.6).count());
    }

    @Test
    void theBudgetFreesUpAsFlagsLeaveTheWindow() {
        double[] allHigh = new double[12];
        Arrays.fill(allHigh, 0.9);
        assertThat(new AlertBudget(2, 4).decide(allHigh, 0.5)).containsExactly(1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0);
        assertThat(new AlertBudget(12, 12).decide(allHigh, 0.5)).containsOnly(1);
    }

    @Test
    void aTrackerDecidesBeatByBeatLikeTheWholeRecording() {
        Random random = new Random(9);
        double[] proba = new double[300];
        Arrays.setAll(proba, i -> random.nextDouble());
        AlertBudget budget = new AlertBudget(4, 25);
        AlertBudget.Tracker t = new AlertBudget.Tracker();
        int[] oneByOne = new int[proba.length];
        for (int i = 0; i < proba.length; i++) {
            oneByOne[i] = budget.decide(t, proba[i] >= 0.5) ? 1 : 0;
            assertThat(t.flagged.length).isLessThanOrEqualTo(4); // the state stays bounded
        }
        assertThat(oneByOne).containsExactly(budget.decide(proba, 0.5));
        assertThat(t.beats).isEqualTo(proba.length);
    }

    @Test
    void refusesANonsensicalBudget() {
        assertThatThrownBy(() -> new AlertBudget(0, 10)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new AlertBudget(3, 0)).isInstanceOf(IllegalArgumentException.class);
    }
}
